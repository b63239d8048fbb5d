import Logging
import PostgresNIO

/// Calls back on every change of a callout's status, the moment it commits: it LISTENs on the channel a
/// trigger on `callouts` notifies (migration 0010), on a pooled connection it keeps for as long as it runs.
/// Listeners keep their periodic reads as well, so a change announced while the connection was down costs
/// them one period, never correctness.
struct CalloutStatusListener: Sendable {
    static let channel = "callout_status_changes"

    let client: PostgresClient
    let logger: Logger

    /// Until the task is cancelled; reconnects a second after the connection fails. `onListening` runs each
    /// time listening (re)starts, for whatever changed while nobody listened.
    func run(onListening: @escaping @Sendable () -> Void = {}, onChange: @escaping @Sendable (_ calloutID: Int64, _ status: String) -> Void) async {
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: Self.channel) { notifications in
                        onListening()
                        for try await notification in notifications {
                            guard let change = Self.parse(notification.payload) else { continue }
                            onChange(change.calloutID, change.status)
                        }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("listening for callout status changes failed; retrying", metadata: ["error": "\(String(reflecting: error))"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// "<callout id> <status>".
    static func parse(_ payload: String) -> (calloutID: Int64, status: String)? {
        let parts = payload.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, let id = Int64(parts[0]) else { return nil }
        return (id, String(parts[1]))
    }
}
