import Metrics
import Synchronization

/// Counters of one metric whose label values are only known at run time (an account id, a provider's HTTP
/// status), made once per label set: the metrics factory's own lookup takes a lock and builds a key on every
/// call, which a path running a thousand times a second should not pay.
public final class LabelledCounters: Sendable {
    private let label: String
    private let counters = Mutex<[[String]: Counter]>([:])
    private let dimensionNames: [String]

    public init(label: String, dimensionNames: [String]) {
        self.label = label
        self.dimensionNames = dimensionNames
    }

    /// Adds one to the counter of these label values, given in the order of `dimensionNames`.
    public func increment(_ values: String...) {
        counter(values).increment()
    }

    /// Adds `amount` to the counter of these label values.
    public func add(_ amount: Int, _ values: String...) {
        if amount > 0 { counter(values).increment(by: Int64(amount)) }
    }

    private func counter(_ values: [String]) -> Counter {
        counters.withLock { counters in
            if let existing = counters[values] { return existing }
            let made = Counter(label: label, dimensions: Array(zip(dimensionNames, values)))
            counters[values] = made
            return made
        }
    }
}
