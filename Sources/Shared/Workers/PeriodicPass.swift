import Logging
import ServiceLifecycle

/// The loop of a periodic service (the stuck-call sweeper, the job reconciler, the dialling watch): `pass`
/// every `interval` until the service is cancelled or asked to stop. A failing pass is logged with `failure`
/// (and `onFailure` runs) and the next one comes after the interval; cancellation ends the loop.
func repeatUntilShutdown(
    every interval: Duration, logger: Logger, failure: Logger.Message, onFailure: @escaping @Sendable () -> Void = {},
    _ pass: @escaping @Sendable () async throws -> Void
) async {
    await cancelWhenGracefulShutdown {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await pass()
            } catch is CancellationError {
                break
            } catch {
                onFailure()
                logger.error(failure, metadata: ["error": "\(String(reflecting: error))"])
            }
            try? await Task.sleep(for: interval)
        }
    }
}
