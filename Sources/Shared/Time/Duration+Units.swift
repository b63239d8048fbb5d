extension Duration {
    /// The duration in seconds, as a `Double` (for rates, and for SQL intervals).
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }

    /// The duration in whole nanoseconds (NIO's `TimeAmount`, metrics timers).
    public var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
}
