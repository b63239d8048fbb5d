import HTTPTypes
import Hummingbird
import Metrics
import NIOCore
import Shared

/// `POST /api/remote_phone_call_events`: Twilio's and Somleng's requests about calls (status callbacks and
/// call flow requests). Public, since the providers carry no access token: authenticated instead by the
/// `X-Twilio-Signature` of the account's auth token. Answers the call flow's TwiML with 201.
struct ProviderWebhooksController {
    let recorder: ProviderCallbackRecorder
    let publicBaseURL: String?

    static let signatureHeader = HTTPField.Name(TwilioSignature.header)!
    static let forwardedProto = HTTPField.Name("X-Forwarded-Proto")!
    static let forwardedHost = HTTPField.Name("X-Forwarded-Host")!

    /// Callbacks by what became of them: an operator watches `forbidden` (a wrong token or public URL) and
    /// `unknown_call`.
    /// Made once, not per request: a callback is the API's hottest path during a campaign.
    static let recorded = counter("recorded")
    static let forbidden = counter("forbidden")
    static let unknownCall = counter("unknown_call")
    static func counter(_ result: String) -> Counter { Counter(label: "scfm_provider_callbacks_total", dimensions: [("result", result)]) }

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.post("remote_phone_call_events", use: create)
    }

    /// A provider's callback is a few dozen form fields (Twilio's are under 4 KB); anything over 64 KiB is 413
    /// before it is parsed, on this unauthenticated route.
    static let maximumBodySize = 64 << 10

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> Response {
        var request = request
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.isEmpty || contentType.hasPrefix("application/x-www-form-urlencoded") else {
            throw APIError(status: .unsupportedMediaType, message: "providers post application/x-www-form-urlencoded")
        }
        let body = try await request.collectBody(upTo: Self.maximumBodySize)
        let callback = ProviderCallback(form: String(buffer: body))
        // PostgreSQL stores no U+0000: refused before the call and account lookups would fail on it (make fuzz).
        guard !callback.parameters.contains(where: { $0.0.utf8.contains(0) || $0.1.utf8.contains(0) }) else {
            throw APIError.badRequest("parameters may not contain the NUL character (\\u0000)")
        }
        let query = request.uri.queryParameters
        let phoneCallID = query.get("phone_call_id").flatMap { Int64($0) }
        let result = try await recorder.record(
            callback, signature: request.headers[Self.signatureHeader], url: signedURL(of: request), phoneCallID: phoneCallID,
            token: query.get("token").map { String($0) })
        switch result {
        case .recorded(let eventID, let phoneCallID, let twiml):
            Self.recorded.increment()
            context.logger.info(
                "provider callback",
                metadata: [
                    "remote_phone_call_event_id": "\(eventID)", "phone_call_id": "\(phoneCallID)",
                    "call_status": "\(callback.callStatus ?? "")",
                ])
            return Response(
                status: .created, headers: [.contentType: TwiML.contentType], body: .init(byteBuffer: ByteBuffer(string: twiml.xml)))
        case .forbidden:
            Self.forbidden.increment()
            context.logger.warning("provider callback refused: no matching signature", metadata: ["account_sid": "\(callback.accountSID ?? "")"])
            throw APIError(status: .forbidden, message: "the X-Twilio-Signature does not match the account's auth token")
        case .wrongToken:
            Self.forbidden.increment()
            context.logger.warning(
                "provider callback refused: its URL's token is not its phone call's", metadata: ["phone_call_id": "\(phoneCallID ?? 0)"])
            throw APIError(status: .forbidden, message: "the callback URL's token does not belong to phone call \(phoneCallID ?? 0)")
        case .unknownCall:
            Self.unknownCall.increment()
            throw APIError(status: .notFound, message: "no phone call has CallSid \(callback.callSID ?? "")")
        case .notThisCall(let reason):
            Self.unknownCall.increment()
            context.logger.warning(
                "provider callback refused: not about its URL's call", metadata: ["phone_call_id": "\(phoneCallID ?? 0)", "reason": "\(reason)"])
            throw APIError(status: .notFound, message: reason)
        }
    }

    /// The URL the provider requested, as it signed it: the public base URL (or the forwarded or direct host)
    /// followed by the path and query exactly as received.
    func signedURL(of request: Request) -> String {
        let base: String
        if let publicBaseURL {
            base = publicBaseURL
        } else {
            let scheme = request.headers[Self.forwardedProto]?.split(separator: ",").first.map { $0.trimmingWhitespace().lowercased() } ?? "http"
            let host = request.headers[Self.forwardedHost] ?? request.head.authority ?? "localhost"
            base = "\(scheme)://\(host)"
        }
        return base + request.uri.description
    }
}
