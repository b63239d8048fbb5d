import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import Shared

/// Posts a call's status callbacks to its `StatusCallback` as Twilio does: `completed` (the final status)
/// always, `ringing` and `answered` when `StatusCallbackEvent` asks for them. A failed callback is logged, not
/// retried (Twilio does not retry either).
struct StatusCallbackSender: Sendable {
    let logger: Logger

    func schedule(_ call: FakeCall) {
        guard let url = call.statusCallback else { return }
        var moments: [(Duration, String)] = []
        if call.statusCallbackEvents.contains("ringing") { moments.append((call.queueDuration, "ringing")) }
        if call.statusCallbackEvents.contains("answered"), call.outcome == "completed" { moments.append((call.answeredAfter, "in-progress")) }
        moments.append((call.endsAfter, call.outcome))
        let logger = logger
        Task {
            for (after, status) in moments {
                try? await Task.sleep(until: .now + (after - .seconds(Date().timeIntervalSince(call.createdAt))), clock: .continuous)
                await Self.post(call, status: status, to: url, logger: logger)
            }
        }
    }

    static func post(_ call: FakeCall, status: String, to url: String, logger: Logger) async {
        let duration = status == "completed" ? String(call.talkDuration.components.seconds) : "0"
        let form = FormEncoding.encode([
            ("AccountSid", call.accountSID), ("ApiVersion", "2010-04-01"), ("CallSid", call.sid), ("CallStatus", status),
            ("Direction", "outbound-api"), ("From", call.from), ("To", call.to), ("CallDuration", duration),
            ("Timestamp", RFC2822.format(Date())),
        ])
        var request = HTTPClientRequest(url: call.statusCallbackMethod.uppercased() == "GET" ? "\(url)\(url.contains("?") ? "&" : "?")\(form)" : url)
        if call.statusCallbackMethod.uppercased() != "GET" {
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: form))
        }
        do {
            _ = try await HTTPClient.shared.execute(request, timeout: .seconds(10), logger: logger)
        } catch {
            logger.warning("status callback failed", metadata: ["call_sid": "\(call.sid)", "url": "\(url)", "error": "\(error)"])
        }
    }
}
