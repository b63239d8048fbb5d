import Foundation

/// Percentiles of a set of latency samples, in milliseconds.
struct LatencyStatistics {
    let samples: [Double]

    init(_ samples: [Double]) { self.samples = samples.sorted() }

    func percentile(_ p: Double) -> Double {
        guard !samples.isEmpty else { return .nan }
        let rank = Int((p / 100 * Double(samples.count - 1)).rounded())
        return samples[rank]
    }

    var p50: Double { percentile(50) }
    var p95: Double { percentile(95) }
    var p99: Double { percentile(99) }

    func summary() -> String {
        "p50 \(format(p50)) ms  p95 \(format(p95)) ms  p99 \(format(p99)) ms  (n=\(samples.count))"
    }

    private func format(_ value: Double) -> String {
        let hundredths = (value * 100).rounded() / 100
        return String(hundredths)
    }
}

/// Milliseconds taken by `body`.
func measure(_ body: () async throws -> Void) async rethrows -> Double {
    let clock = ContinuousClock()
    let elapsed = try await clock.measure { try await body() }
    return elapsed.seconds * 1000
}

/// Prints a line at once, unbuffered, so figures appear as they are measured also when the output goes to a
/// file or a pipe.
func say(_ line: String = "") {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// Runs `body` for every item, `concurrency` at a time (lane k takes items k, k + concurrency, …); the wall
/// time and each call's latency.
func inLanes<Item: Sendable>(
    _ items: [Item], concurrency: Int, _ body: @escaping @Sendable (Item) async throws -> Void
) async throws -> (seconds: Double, latency: LatencyStatistics) {
    let start = ContinuousClock.now
    let samples = try await withThrowingTaskGroup(of: [Double].self) { group in
        for lane in 0..<concurrency {
            group.addTask {
                var samples: [Double] = []
                for index in stride(from: lane, to: items.count, by: concurrency) {
                    samples.append(try await measure { try await body(items[index]) })
                }
                return samples
            }
        }
        var all: [Double] = []
        for try await lane in group { all += lane }
        return all
    }
    return ((ContinuousClock.now - start).seconds, LatencyStatistics(samples))
}
