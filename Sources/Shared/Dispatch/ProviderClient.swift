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
}

/// Twilio's REST API, and Somleng's Twilio-compatible one at its own base URL: create, fetch and list calls,
/// over one pooled HTTP client.
public final class ProviderClient: Sendable {
    private let http: HTTPClient
    private let requestTimeout: TimeAmount
    private let logger: Logger
    private let warmedUp = Mutex<Set<String>>([])

    /// An HTTP client for provider requests, its connections kept open between dials: a dial that first has
    /// to open a connection (a TLS handshake to Twilio) reaches the provider late and crowds the next one.
    /// (Pre-warmed connections would help further, but a client with them did not always finish its shutdown.)
    public static func makeHTTPClient(maximumConnections: Int = 64) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .minutes(5), concurrentHTTP1ConnectionsPerHostSoftLimit: maximumConnections)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public init(http: HTTPClient, requestTimeout: Duration = .seconds(15), logger: Logger) {
        self.http = http
        self.requestTimeout = .nanoseconds(Int64(requestTimeout.components.seconds) * 1_000_000_000 + requestTimeout.components.attoseconds / 1_000_000_000)
        self.logger = logger
    }

    /// `POST /2010-04-01/Accounts/{sid}/Calls.json` with `To` and the call's request parameters.
    public func createCall(_ account: ProviderAccount, to: String, parameters: JSONValue) async -> ProviderOutcome<ProviderCall> {
        let form = FormEncoding.encode(TwilioParameterNames.createCallForm(to: to, parameters: parameters))
        return await send(account, method: .POST, path: "Calls.json", body: form, action: "create record")
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
        await send(account, method: .GET, path: "Calls/\(FormEncoding.escape(sid)).json", body: nil, action: "fetch record")
    }

    /// The newest calls to `to` (`GET Calls.json?To=…`), for finding out whether a dial whose answer was lost
    /// reached the provider.
    public func recentCalls(_ account: ProviderAccount, to: String, pageSize: Int = 50) async -> ProviderOutcome<[ProviderCall]> {
        let outcome: ProviderOutcome<JSONValue> = await request(
            account, method: .GET, path: "Calls.json?To=\(FormEncoding.escape(to))&PageSize=\(pageSize)", body: nil,
            action: "read records")
        switch outcome {
        case .success(let json): return .success((json["calls"]?.arrayValue ?? []).compactMap(ProviderCall.init(json:)))
        case .rejected(let status, let message): return .rejected(status: status, message: message)
        case .throttled(let retryAfter): return .throttled(retryAfter: retryAfter)
        case .unavailable(let reason): return .unavailable(reason: reason)
        }
    }

    private func send(
        _ account: ProviderAccount, method: HTTPMethod, path: String, body: String?, action: String
    ) async -> ProviderOutcome<ProviderCall> {
        switch await request(account, method: method, path: path, body: body, action: action) {
        case .success(let json):
            guard let call = ProviderCall(json: json) else { return .unavailable(reason: "the provider's answer has no call sid or status") }
            return .success(call)
        case .rejected(let status, let message): return .rejected(status: status, message: message)
        case .throttled(let retryAfter): return .throttled(retryAfter: retryAfter)
        case .unavailable(let reason): return .unavailable(reason: reason)
        }
    }

    private func request(
        _ account: ProviderAccount, method: HTTPMethod, path: String?, body: String?, action: String
    ) async -> ProviderOutcome<JSONValue> {
        let base = account.baseURL.hasSuffix("/") ? String(account.baseURL.dropLast()) : account.baseURL
        let accountURL = "\(base)/2010-04-01/Accounts/\(FormEncoding.escape(account.accountSID))"
        var request = HTTPClientRequest(url: path.map { "\(accountURL)/\($0)" } ?? "\(accountURL).json")
        request.method = method
        let credentials = Data("\(account.accountSID):\(account.authToken)".utf8).base64EncodedString()
        request.headers.add(name: "Authorization", value: "Basic \(credentials)")
        request.headers.add(name: "Accept", value: "application/json")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: body))
        }
        do {
            let response = try await http.execute(request, timeout: requestTimeout, logger: logger)
            let bytes = try await response.body.collect(upTo: 4 << 20)
            let json = try? JSONParser.parse(Array(bytes.readableBytesView))
            let status = Int(response.status.code)
            switch status {
            case 200..<300:
                guard let json else { return .unavailable(reason: "the provider answered \(status) without JSON") }
                return .success(json)
            case 429:
                let retryAfter = response.headers.first(name: "Retry-After").flatMap(Double.init).map { Duration.milliseconds(Int64($0 * 1000)) }
                return .throttled(retryAfter: retryAfter)
            case 400..<500:
                // twilio-ruby's wording, which SCFM stored as remote_error_message.
                let message = json?["message"]?.stringValue ?? "HTTP \(status)"
                return .rejected(status: status, message: "Unable to \(action): \(message)")
            default:
                return .unavailable(reason: "HTTP \(status)\(json?["message"]?.stringValue.map { ": \($0)" } ?? "")")
            }
        } catch {
            return .unavailable(reason: String(describing: error))
        }
    }
}
