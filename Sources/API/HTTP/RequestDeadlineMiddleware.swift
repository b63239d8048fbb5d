import Hummingbird

/// Stops a request that takes longer than `API_REQUEST_TIMEOUT_SECONDS` (default 30) to produce its answer:
/// the handler's task is cancelled (its database queries with it) and the client gets 503 with `Retry-After`,
/// so a slow body trickled in or a pathological query cannot hold a connection and a pool slot for ever.
/// Covers producing the response, not streaming a long body out (an export), which the idle timeout bounds.
struct RequestDeadlineMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let deadline: Duration

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard deadline > .zero else { return try await next(request, context) }
        return try await withoutActuallyEscaping(next) { next in
            // The closure runs only inside this task group, which ends before `handle` returns.
            let handler = UncheckedSendable(value: next)
            return try await withThrowingTaskGroup(of: Response.self) { group in
                group.addTask { try await handler.value(request, context) }
                group.addTask { [deadline] in
                    try await Task.sleep(for: deadline)
                    throw RequestDeadlineExceeded(seconds: deadline.components.seconds)
                }
                defer { group.cancelAll() }
                return try await group.next()!
            }
        }
    }
}

struct RequestDeadlineExceeded: Error {
    let seconds: Int64
}

/// A value the compiler cannot prove Sendable, handed to a child task that provably ends before its owner.
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
}
