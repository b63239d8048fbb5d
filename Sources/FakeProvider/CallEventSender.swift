import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import Shared

/// What the fake provider asks of the application while a call runs, as Twilio does: the call's `Url` for
/// instructions when it is answered (`CallStatus=in-progress`), and its `StatusCallback` with `completed` (the
/// final status) always, `ringing` and `answered` when `StatusCallbackEvent` asks for them. Which `Url`s it
/// asks is `FakeProviderSettings.fetchTwiML`. Every request is
/// signed (`X-Twilio-Signature`) with the auth token the call was created with. A failed request is counted
/// in the ledger and logged, not retried (Twilio does not retry either).
struct CallEventSender: Sendable {
    let ledger: FakeProviderLedger
    let logger: Logger

    func schedule(_ call: FakeCall) {
        var moments: [(Duration, FakeProviderLedger.ProviderRequestKind, String)] = []
        let answered = call.outcome == "completed"
        if call.statusCallback != nil, call.statusCallbackEvents.contains("ringing") {
            moments.append((call.queueDuration, .statusCallback, "ringing"))
        }
        if let url = call.url, answered, ledger.settings.fetchTwiML.allows(url) { moments.append((call.answeredAfter, .callFlow, "in-progress")) }
        if call.statusCallback != nil, call.statusCallbackEvents.contains("answered"), answered {
            moments.append((call.answeredAfter, .statusCallback, "in-progress"))
        }
        if call.statusCallback != nil { moments.append((call.endsAfter, .statusCallback, call.outcome)) }
        guard !moments.isEmpty else { return }
        let sender = self
        Task {
            for (after, kind, status) in moments {
                try? await Task.sleep(until: .now + (after - .seconds(Date().timeIntervalSince(call.createdAt))), clock: .continuous)
                _ = await sender.send(kind, of: call, status: status)
            }
        }
    }

    /// Sends one request now; returns the application's answer (TwiML for a call flow request), nil when it
    /// failed.
    @discardableResult
    func send(_ kind: FakeProviderLedger.ProviderRequestKind, of call: FakeCall, status: String) async -> (status: UInt, body: String)? {
        let (target, method) = kind == .callFlow ? (call.url, call.method) : (call.statusCallback, call.statusCallbackMethod)
        guard let target else { return nil }
        var parameters = [
            ("AccountSid", call.accountSID), ("ApiVersion", "2010-04-01"), ("CallSid", call.sid), ("CallStatus", status),
            ("Called", call.to), ("Caller", call.from), ("Direction", call.direction), ("From", call.from), ("To", call.to),
        ]
        if kind == .statusCallback {
            let duration = status == "completed" ? String(call.talkDuration.components.seconds) : "0"
            parameters += [("CallDuration", duration), ("Timestamp", RFC2822.format(Date()))]
        }
        let isGet = method.uppercased() == "GET"
        // A GET carries the parameters in its URL, which is then all the signature covers.
        let url = isGet ? "\(target)\(target.contains("?") ? "&" : "?")\(FormEncoding.encode(parameters))" : target
        var request = HTTPClientRequest(url: url)
        if !isGet {
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: FormEncoding.encode(parameters)))
        }
        if let token = call.signingToken {
            request.headers.add(
                name: TwilioSignature.header, value: TwilioSignature.compute(url: url, parameters: isGet ? [] : parameters, authToken: token))
        }
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10), logger: logger)
            let body = try await response.body.collect(upTo: 1 << 20)
            let delivered = (200..<300).contains(response.status.code)
            ledger.recordRequest(kind, delivered: delivered)
            if !delivered {
                logger.warning(
                    "provider request refused", metadata: ["call_sid": "\(call.sid)", "url": "\(target)", "status": "\(response.status.code)"])
            }
            return (response.status.code, String(buffer: body))
        } catch {
            ledger.recordRequest(kind, delivered: false)
            logger.warning("provider request failed", metadata: ["call_sid": "\(call.sid)", "url": "\(target)", "error": "\(error)"])
            return nil
        }
    }
}
