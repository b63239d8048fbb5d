import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// A call as the provider reports it: its sid, Twilio status and direction, and the whole JSON answer (stored
/// as `remote_queue_response` or `remote_response`).
public struct ProviderCall: Sendable, Equatable {
    public let sid: String
    public let status: String
    public let direction: String?
    public let to: String?
    public let dateCreated: String?
    public let json: JSONValue

    public init?(json: JSONValue) {
        guard let sid = json["sid"]?.stringValue, let status = json["status"]?.stringValue else { return nil }
        self.sid = sid
        self.status = status
        direction = json["direction"]?.stringValue
        to = json["to"]?.stringValue
        dateCreated = json["date_created"]?.stringValue
        self.json = json
    }
}

/// What a provider request came to. Only `rejected` is the call's own failure; throttling and outages are
/// the provider's, and are retried.
public enum ProviderOutcome<Success: Sendable>: Sendable {
    case success(Success)
    /// 4xx other than 429: the request is wrong (bad number, bad credentials); the message is the provider's.
    case rejected(status: Int, message: String)
    /// 429: too many requests; the provider may say when to come back.
    case throttled(retryAfter: Duration?)
    /// 5xx, a timeout or no connection: the provider may or may not have acted on the request.
    case unavailable(reason: String)

    /// The same outcome with the success transformed (which may itself turn out not to be one).
    func flatMap<Other: Sendable>(_ transform: (Success) -> ProviderOutcome<Other>) -> ProviderOutcome<Other> {
        switch self {
        case .success(let value): transform(value)
        case .rejected(let status, let message): .rejected(status: status, message: message)
        case .throttled(let retryAfter): .throttled(retryAfter: retryAfter)
        case .unavailable(let reason): .unavailable(reason: reason)
        }
    }
}

extension ProviderOutcome where Success == JSONValue {
    /// A provider answer read as a call.
    var call: ProviderOutcome<ProviderCall> {
        flatMap { json in
            ProviderCall(json: json).map { .success($0) } ?? .unavailable(reason: "the provider's answer has no call sid or status")
        }
    }
}

/// Twilio's REST API, and Somleng's Twilio-compatible one at its own base URL: create, fetch and list calls,
/// over one pooled HTTP client.
public final class ProviderClient: Sendable {
    private let http: HTTPClient
    /// How long one request may take.
    public let requestTimeout: Duration
    private let logger: Logger
    /// `scfm_provider_errors_total{request,code}`: every answer that was not a success, by HTTP status, or
    /// `transport` for a timeout or a lost connection.
    private static let errors = LabelledCounters(label: "scfm_provider_errors_total", dimensionNames: ["request", "code"])
    private let warmedUp = Mutex<Set<String>>([])

    /// An HTTP client for provider requests, its connections kept open between dials: a dial that first has
    /// to open a connection (a TLS handshake to Twilio) reaches the provider late and crowds the next one.
    /// (Pre-warmed connections would help further, but a client with them did not always finish its shutdown.)
    public static func makeHTTPClient(maximumConnections: Int = 64) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .minutes(5), concurrentHTTP1ConnectionsPerHostSoftLimit: maximumConnections)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// `requestTimeout` as AsyncHTTPClient takes it.
    private var requestTimeoutAmount: TimeAmount { .nanoseconds(requestTimeout.nanoseconds) }

    public init(http: HTTPClient, requestTimeout: Duration = .seconds(15), logger: Logger) {
        self.http = http
        self.requestTimeout = requestTimeout
        self.logger = logger
    }

    /// `POST /2010-04-01/Accounts/{sid}/Calls.json` with `To` and the call's request parameters.
    public func createCall(_ account: ProviderAccount, to: String, parameters: JSONValue) async -> ProviderOutcome<ProviderCall> {
        let form = FormEncoding.encode(TwilioParameterNames.createCallForm(to: to, parameters: parameters))
        return await request(account, method: .POST, path: "Calls.json", body: form, action: "create record").call
    }

    /// A create-call request built ahead of its dial slot, so that nothing but the send is left for the slot.
    public struct PreparedCreate: Sendable {
        let request: HTTPClient.Request
    }

    public func prepareCreateCall(_ account: ProviderAccount, to: String, parameters: JSONValue) throws -> PreparedCreate {
        let form = FormEncoding.encode(TwilioParameterNames.createCallForm(to: to, parameters: parameters))
        return PreparedCreate(
            request: try HTTPClient.Request(
                url: url(account, path: "Calls.json"), method: .POST, headers: headers(account, hasForm: true), body: .string(form)))
    }

    /// Sends a prepared create at `slot`. The wait is an event-loop timer, and the request leaves from the
    /// timer's own event loop: waking a task on the shared cooperative pool instead can be late by
    /// milliseconds on a busy machine, and each such delay crowds the next worker's dial. Returns nil, having
    /// sent nothing, when the timer fired more than `lateness` after the slot, or when `withdrawn`, asked on
    /// the event loop at that instant, says the call must not leave any more (its callout was paused).
    public func send(
        _ prepared: PreparedCreate, at slot: ContinuousClock.Instant, lateness: Duration,
        unless withdrawn: @escaping @Sendable () -> Bool = { false }
    ) async -> (outcome: ProviderOutcome<ProviderCall>, sentAt: Date)? {
        let eventLoop = http.eventLoopGroup.next()
        let wait = slot - ContinuousClock.now
        let deadline = NIODeadline.now() + .nanoseconds(max(0, wait.nanoseconds))
        let latenessNanoseconds = lateness.nanoseconds
        let http = self.http
        let timeout = requestTimeoutAmount
        let logger = self.logger
        // The wall-clock time the request left at its slot, kept as the call's `remotely_queued_at`: the limiter's
        // own record of when each dial went out, apart from when the provider got round to reading it.
        let sentAt = SendTime()
        let promise = eventLoop.makePromise(of: HTTPClient.Response?.self)
        eventLoop.scheduleTask(deadline: deadline) {
            guard (NIODeadline.now() - deadline).nanoseconds <= latenessNanoseconds, !withdrawn() else {
                promise.succeed(nil)
                return
            }
            sentAt.mark()
            http.execute(request: prepared.request, eventLoop: .delegate(on: eventLoop), deadline: .now() + timeout, logger: logger)
                .map { Optional($0) }
                .cascade(to: promise)
        }
        let response: HTTPClient.Response?
        do {
            response = try await promise.futureResult.get()
        } catch {
            Self.errors.increment("create record", "transport")
            return (.unavailable(reason: String(describing: error)), sentAt.value)
        }
        guard let response else { return nil }
        let bytes = response.body.map { Array($0.readableBytesView) } ?? []
        let answer = outcome(status: Int(response.status.code), headers: response.headers, body: bytes, action: "create record").call
        return (answer, sentAt.value)
    }

    /// Opens the connections to the account's provider before the first dial (`GET …/Accounts/{sid}.json`),
    /// once per base URL and account.
    public func warmUp(_ account: ProviderAccount) async {
        let key = account.baseURL + " " + account.accountSID
        guard warmedUp.withLock({ $0.insert(key).inserted }) else { return }
        let _: ProviderOutcome<JSONValue> = await request(account, method: .GET, path: nil, body: nil, action: "fetch record")
    }

    /// `GET /2010-04-01/Accounts/{sid}/Calls/{call}.json`.
    public func fetchCall(_ account: ProviderAccount, sid: String) async -> ProviderOutcome<ProviderCall> {
        await request(account, method: .GET, path: "Calls/\(FormEncoding.escape(sid)).json", body: nil, action: "fetch record").call
    }

    /// The newest calls to `to` (`GET Calls.json?To=…`), for finding out whether a dial whose answer was lost
    /// reached the provider.
    public func recentCalls(_ account: ProviderAccount, to: String, pageSize: Int = 50) async -> ProviderOutcome<[ProviderCall]> {
        await request(
            account, method: .GET, path: "Calls.json?To=\(FormEncoding.escape(to))&PageSize=\(pageSize)", body: nil,
            action: "read records"
        ).flatMap { json in .success((json["calls"]?.arrayValue ?? []).compactMap(ProviderCall.init(json:))) }
    }

    private func request(
        _ account: ProviderAccount, method: HTTPMethod, path: String?, body: String?, action: String
    ) async -> ProviderOutcome<JSONValue> {
        await execute(makeRequest(account, method: method, path: path, body: body), action: action)
    }

    private func makeRequest(_ account: ProviderAccount, method: HTTPMethod, path: String?, body: String?) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url(account, path: path))
        request.method = method
        request.headers = headers(account, hasForm: body != nil)
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        return request
    }

    /// `{base}/2010-04-01/Accounts/{sid}/{path}`, or the account's own `…/Accounts/{sid}.json` without a path.
    private func url(_ account: ProviderAccount, path: String?) -> String {
        let base = account.baseURL.hasSuffix("/") ? String(account.baseURL.dropLast()) : account.baseURL
        let accountURL = "\(base)/2010-04-01/Accounts/\(FormEncoding.escape(account.accountSID))"
        return path.map { "\(accountURL)/\($0)" } ?? "\(accountURL).json"
    }

    /// Basic auth with the account's sid and token, JSON answers, and a form body when there is one.
    private func headers(_ account: ProviderAccount, hasForm: Bool) -> HTTPHeaders {
        var headers = HTTPHeaders()
        let credentials = Data("\(account.accountSID):\(account.authToken)".utf8).base64EncodedString()
        headers.add(name: "Authorization", value: "Basic \(credentials)")
        headers.add(name: "Accept", value: "application/json")
        if hasForm { headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded") }
        return headers
    }

    private func execute(_ request: HTTPClientRequest, action: String) async -> ProviderOutcome<JSONValue> {
        do {
            let response = try await http.execute(request, timeout: requestTimeoutAmount, logger: logger)
            let bytes = try await response.body.collect(upTo: 4 << 20)
            return outcome(status: Int(response.status.code), headers: response.headers, body: Array(bytes.readableBytesView), action: action)
        } catch {
            Self.errors.increment(action, "transport")
            return .unavailable(reason: String(describing: error))
        }
    }

    private func outcome(status: Int, headers: HTTPHeaders, body: [UInt8], action: String) -> ProviderOutcome<JSONValue> {
        let json = try? JSONParser.parse(body)
        if !(200..<300).contains(status) { Self.errors.increment(action, String(status)) }
        switch status {
        case 200..<300:
            guard let json else { return .unavailable(reason: "the provider answered \(status) without JSON") }
            return .success(json)
        case 429:
            let retryAfter = headers.first(name: "Retry-After").flatMap(Double.init).map { Duration.milliseconds(Int64($0 * 1000)) }
            return .throttled(retryAfter: retryAfter)
        case 400..<500:
            // twilio-ruby's wording, which SCFM stored as remote_error_message.
            let message = json?["message"]?.stringValue ?? "HTTP \(status)"
            return .rejected(status: status, message: "Unable to \(action): \(message)")
        default:
            return .unavailable(reason: "HTTP \(status)\(json?["message"]?.stringValue.map { ": \($0)" } ?? "")")
        }
    }
}

/// When a dial's request left (set on the event loop that sends it, read by the task awaiting the answer).
private final class SendTime: Sendable {
    private let time = Mutex<Date?>(nil)
    func mark() { time.withLock { $0 = Date() } }
    var value: Date { time.withLock { $0 } ?? Date() }
}
