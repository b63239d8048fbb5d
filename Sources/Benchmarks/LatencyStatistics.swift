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
