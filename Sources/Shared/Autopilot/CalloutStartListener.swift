import Logging
import PostgresNIO

/// Calls back the moment a callout starts or resumes: it LISTENs on the channel a trigger on `callouts`
/// notifies (migration 0010), on a connection of its own for as long as it runs. The scheduler's tick still
/// runs, so a notification lost with a dropped connection costs at most one tick.
struct CalloutStartListener: Sendable {
    static let channel = "autopilot_callouts_started"

    let client: PostgresClient
    let logger: Logger

    /// Until the task is cancelled; reconnects after a second when the connection fails.
    func run(onStart: @escaping @Sendable () -> Void) async {
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: Self.channel) { notifications in
                        // Whatever started while nobody listened is found by the next tick, brought forward.
                        onStart()
                        for try await _ in notifications { onStart() }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("listening for started callouts failed; retrying", metadata: ["error": "\(String(reflecting: error))"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
