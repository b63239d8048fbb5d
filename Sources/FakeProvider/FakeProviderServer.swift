import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Shared

/// A Twilio-compatible provider for local mode, demos, tests and load tests: `POST …/Calls.json` creates a
/// call (or answers 429/500 as configured), `GET …/Calls/{sid}.json` fetches it, `GET …/Calls.json` lists them
/// (`To`, `PageSize`, `Page`). While a call runs it asks the call's `Url` for TwiML and posts its
/// `StatusCallback`, signed like Twilio (see `CallEventSender`). `POST /_fake/inbound_calls` simulates a call
/// to one of the account's numbers. `/_fake/ledger` shows every create it received (`DELETE` clears it).
/// `/_fake/webhooks/{name}` receives SCFM's own outbound webhooks (see `FakeWebhookSink`).
public final class FakeProviderServer: Sendable {
    let ledger: FakeProviderLedger
    let logger: Logger
    let callEvents: CallEventSender
    let webhooks = FakeWebhookSink()

    public init(settings: FakeProviderSettings, logger: Logger) {
        ledger = FakeProviderLedger(settings: settings)
        self.logger = logger
        callEvents = CallEventSender(ledger: ledger, logger: logger)
    }

    /// The ledger's summary (what `GET /_fake/ledger` answers).
    public func ledgerSummary() -> JSONValue { ledger.summary() }

    /// Every accepted create's arrival, in seconds from the first.
    public func createTimes() -> [Double] { ledger.createTimes() }

    public func resetLedger() { ledger.reset() }

    /// The server as a service; `onRunning` receives the port it listens on (useful with port 0).
    public func application(
        host: String, port: Int, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router()
        let calls = router.group("2010-04-01/Accounts/:account_sid")
        calls.post("Calls.json") { request, context in try await self.create(request, context) }
        calls.get("Calls.json") { request, context in try self.list(request, context) }
        calls.get("Calls/:call") { request, context in try self.fetch(request, context) }
        // The account itself (`Accounts/{sid}.json`): the segment is the same router parameter as above.
        router.get("2010-04-01/Accounts/:account_sid") { request, context in
            let file = context.parameters.get("account_sid") ?? ""
            let sid = file.hasSuffix(".json") ? String(file.dropLast(5)) : file
            if let refusal = self.authenticate(request, accountSID: sid) { return refusal }
            return Self.json(.ok, ["sid": .string(sid), "friendly_name": .string(sid), "status": "active", "type": "Full"])
        }
        // An empty account sid (`Accounts//Calls.json`): the router drops the empty segment. Twilio's 404, which
        // SCFM's guide shows as the error of an unconfigured account.
        router.post("2010-04-01/Accounts/Calls.json") { request, _ in
            Self.error(404, code: 20404, "The requested resource \(request.uri.path) was not found")
        }
        router.post("_fake/inbound_calls") { request, _ in try await self.inboundCall(request) }
        router.get("_fake/ledger") { _, _ in Self.json(.ok, self.ledger.summary()) }
        router.get("_fake/ledger/create_times") { _, _ in
            Self.json(.ok, ["seconds_from_first": .array(self.ledger.createTimes().map { .number($0) })])
        }
        router.delete("_fake/ledger") { _, _ in
            self.ledger.reset()
            return Response(status: .noContent)
        }
        router.get("health") { _, _ in Self.json(.ok, ["status": "ok"]) }
        webhooks.add(to: router)
        return Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "scfm-fake-provider"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger)
    }

    private func create(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        // Rates are counted when requests arrive, as a provider's CPS limit is.
        let arrivedAt = ContinuousClock.now
        let accountSID = context.parameters.get("account_sid") ?? ""
        if let refusal = authenticate(request, accountSID: accountSID) { return refusal }
        let body = try await request.body.collect(upTo: 1 << 20)
        let form = FormEncoding.decode(String(buffer: body))
        try await sleepLatency()
        let value = { (name: String) in form.last { $0.0 == name }?.1 }
        guard let to = value("To"), !to.isEmpty else { return Self.error(400, code: 21201, "No 'To' number is specified") }
        guard to.first == "+", to.dropFirst().allSatisfy(\.isNumber), to.count > 4 else {
            return Self.error(400, code: 21211, "The 'To' number \(to) is not a valid phone number.")
        }
        guard value("From") != nil else { return Self.error(400, code: 21213, "A 'From' phone number is required.") }
        guard value("Url") != nil || value("Twiml") != nil || value("ApplicationSid") != nil else {
            return Self.error(400, code: 21205, "Url parameter is required.")
        }
        switch ledger.create(accountSID: accountSID, signingToken: Self.authToken(request), parameters: form, arrivedAt: arrivedAt) {
        case .throttled:
            var response = Self.error(429, code: 20429, "Too Many Requests")
            response.headers[.retryAfter] = "1"
            return response
        case .failed:
            return Self.error(500, code: 20500, "Internal Server Error")
        case .createdThenFailed(let call):
            callEvents.schedule(call)
            return Self.error(500, code: 20500, "Internal Server Error")
        case .created(let call):
            callEvents.schedule(call)
            return Self.json(.created, call.json(at: Date()))
        }
    }

    private func fetch(_ request: Request, _ context: BasicRequestContext) throws -> Response {
        let accountSID = context.parameters.get("account_sid") ?? ""
        if let refusal = authenticate(request, accountSID: accountSID) { return refusal }
        let file = context.parameters.get("call") ?? ""
        let sid = file.hasSuffix(".json") ? String(file.dropLast(5)) : file
        guard let call = ledger.call(sid: sid, accountSID: accountSID) else {
            return Self.error(404, code: 20404, "The requested resource \(request.uri.path) was not found")
        }
        return Self.json(.ok, call.json(at: Date()))
    }

    private func list(_ request: Request, _ context: BasicRequestContext) throws -> Response {
        let accountSID = context.parameters.get("account_sid") ?? ""
        if let refusal = authenticate(request, accountSID: accountSID) { return refusal }
        let query = request.uri.queryParameters
        let pageSize = min(1000, max(1, query.get("PageSize", as: Int.self) ?? 50))
        let page = max(0, query.get("Page", as: Int.self) ?? 0)
        let matching = ledger.calls(accountSID: accountSID, to: query.get("To").map { String($0) })
        let now = Date()
        let slice = matching.dropFirst(page * pageSize).prefix(pageSize)
        let base = "/2010-04-01/Accounts/\(accountSID)/Calls.json?PageSize=\(pageSize)"
        let hasMore = matching.count > (page + 1) * pageSize
        return Self.json(
            .ok,
            [
                "calls": .array(slice.map { $0.json(at: now) }),
                "page": .integer(Int64(page)),
                "page_size": .integer(Int64(pageSize)),
                "first_page_uri": .string("\(base)&Page=0"),
                "next_page_uri": hasMore ? .string("\(base)&Page=\(page + 1)") : .null,
                "previous_page_uri": page > 0 ? .string("\(base)&Page=\(page - 1)") : .null,
                "uri": .string("\(base)&Page=\(page)"),
                "start": .integer(Int64(page * pageSize)),
                "end": .integer(Int64(page * pageSize + slice.count)),
            ])
    }

    /// Simulates a call from `From` to the account's number `To`: asks `Url` for TwiML at once (as Twilio does
    /// when an inbound call arrives, `CallStatus=ringing`, `Direction=inbound`), signed with the auth token of
    /// the request's basic credentials, and answers the call with the application's response.
    private func inboundCall(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 20)
        let form = FormEncoding.decode(String(buffer: body))
        let value = { (name: String) in form.last { $0.0 == name }?.1.trimmingWhitespace() }
        guard let credentials = Self.credentials(request) else {
            return Self.error(401, code: 20003, "Authenticate with the account sid and auth token the application knows")
        }
        guard let from = value("From"), !from.isEmpty, let to = value("To"), !to.isEmpty, let url = value("Url"), !url.isEmpty else {
            return Self.error(400, code: 21201, "From, To and Url are required")
        }
        let created = Date()
        var call = FakeCall(
            sid: FakeCall.newSID(), accountSID: credentials.sid,
            to: String(to), from: String(from), statusCallback: value("StatusCallback").map(String.init), statusCallbackMethod: "POST",
            statusCallbackEvents: [], url: String(url), method: value("Method").map(String.init) ?? "POST", signingToken: credentials.token,
            createdAt: created, dateCreated: RFC2822.format(created), outcome: "completed", queueDuration: .zero, ringDuration: .zero,
            talkDuration: ledger.settings.talkDuration)
        call.direction = "inbound"
        ledger.addInbound(call)
        let answer = await callEvents.send(.callFlow, of: call, status: "ringing")
        if call.statusCallback != nil { callEvents.schedule(call) }
        var json = call.json(at: Date()).objectValue ?? JSONObject()
        json["call_flow_response"] = answer.map { ["status": .integer(Int64($0.status)), "body": .string($0.body)] } ?? .null
        return Self.json(.created, .object(json))
    }

    /// The basic credentials of a request, `sid:token`.
    static func credentials(_ request: Request) -> (sid: String, token: String)? {
        guard let header = request.headers[.authorization], header.hasPrefix("Basic "),
            let data = Data(base64Encoded: String(header.dropFirst(6)))
        else { return nil }
        let parts = String(decoding: data, as: UTF8.self).split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return (String(parts[0]), String(parts[1]))
    }

    static func authToken(_ request: Request) -> String? { credentials(request)?.token }

    /// Twilio answers a request for an account without a sid with 404, which SCFM's guide shows; with a
    /// configured token, wrong credentials get 401.
    private func authenticate(_ request: Request, accountSID: String) -> Response? {
        if accountSID.isEmpty {
            return Self.error(404, code: 20404, "The requested resource \(request.uri.path) was not found")
        }
        guard let token = ledger.settings.authToken else { return nil }
        let expected = "Basic " + Data("\(accountSID):\(token)".utf8).base64EncodedString()
        guard request.headers[.authorization] == expected else { return Self.error(401, code: 20003, "Authenticate") }
        return nil
    }

    private func sleepLatency() async throws {
        if ledger.settings.latency > .zero { try await Task.sleep(for: ledger.settings.latency) }
    }

    static func json(_ status: HTTPResponse.Status, _ body: JSONValue) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: JSONSerializer.string(body))))
    }

    /// Twilio's error body.
    static func error(_ status: Int, code: Int, _ message: String) -> Response {
        json(
            HTTPResponse.Status(code: status),
            [
                "code": .integer(Int64(code)), "message": .string(message),
                "more_info": .string("https://www.twilio.com/docs/errors/\(code)"), "status": .integer(Int64(status)),
            ])
    }
}
