/// What a worker role does with one message. It must be idempotent: a message can come again after a
/// crash or a rebalance (at least once, applied once).
public protocol MessageHandler: Sendable {
    func handle(_ message: KafkaMessage) async throws
    /// Background work the handler needs while its worker runs (such as listening to PostgreSQL
    /// notifications); cancelled when the worker has drained. Nothing by default.
    func runAlongside() async
}

extension MessageHandler {
    public func runAlongside() async {}
}

/// A message that can never succeed (malformed, unknown version, failed validation): recorded as a dead
/// letter at once instead of being retried.
public struct PoisonMessage: Error, Sendable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// A message's JSON payload; a payload that is not JSON can never be handled, so it is a poison message.
func parsePayload(_ message: KafkaMessage) throws(PoisonMessage) -> JSONValue {
    do {
        return try JSONParser.parse(message.value)
    } catch {
        throw PoisonMessage("payload is not JSON: \(error)")
    }
}

/// Thrown by a handler that stops waiting (for a rate slot, a provider back-off) because the worker is
/// shutting down: the message is neither committed nor dead-lettered, so it comes again.
public struct AbandonedForShutdown: Error, Sendable {
    public init() {}
}
