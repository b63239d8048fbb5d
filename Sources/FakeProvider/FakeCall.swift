import Foundation
import Shared

/// A call the fake provider accepted. Its status follows from the time since creation: queued, ringing, then
/// its outcome (an answered call is in-progress for the talk duration, then completed).
struct FakeCall: Sendable {
    let sid: String
    let accountSID: String
    let to: String
    let from: String
    let statusCallback: String?
    let statusCallbackMethod: String
    let statusCallbackEvents: Set<String>
    /// Where to ask for the call's instructions (TwiML) once it is answered, and with which method.
    let url: String?
    let method: String
    /// The auth token of the create request's credentials: callbacks are signed with it, as Twilio signs
    /// with the account's token.
    let signingToken: String?
    /// `outbound-api`, or `inbound` for a call simulated by `POST /_fake/inbound_calls`.
    var direction = "outbound-api"
    let createdAt: Date
    /// `createdAt` as Twilio writes it, formatted once.
    let dateCreated: String
    let outcome: String
    let queueDuration: Duration
    let ringDuration: Duration
    let talkDuration: Duration

    /// A call sid as Twilio writes them: `CA` and 32 hex digits.
    static func newSID(using generator: inout some RandomNumberGenerator) -> String {
        "CA" + (0..<32).map { _ in String(Int.random(in: 0..<16, using: &generator), radix: 16) }.joined()
    }

    static func newSID() -> String {
        var generator = SystemRandomNumberGenerator()
        return newSID(using: &generator)
    }

    var answeredAfter: Duration { queueDuration + ringDuration }
    var endsAfter: Duration { outcome == "completed" ? answeredAfter + talkDuration : answeredAfter }

    func status(at now: Date) -> String {
        let elapsed = Duration.seconds(now.timeIntervalSince(createdAt))
        if elapsed < queueDuration { return "queued" }
        if elapsed < answeredAfter { return "ringing" }
        if outcome == "completed" && elapsed < endsAfter { return "in-progress" }
        return outcome
    }

    func json(at now: Date) -> JSONValue {
        let status = status(at: now)
        let duration = status == "completed" ? Int64(talkDuration.components.seconds) : 0
        let started = status == "queued" ? nil : createdAt.addingTimeInterval(queueDuration.seconds)
        let ended = ["queued", "ringing", "in-progress"].contains(status) ? nil : createdAt.addingTimeInterval(endsAfter.seconds)
        return [
            "account_sid": .string(accountSID),
            "annotation": .null,
            "answered_by": .null,
            "api_version": "2010-04-01",
            "caller_name": .null,
            "date_created": .string(dateCreated),
            "date_updated": .string(RFC2822.format(now)),
            "direction": .string(direction),
            "duration": .string(String(duration)),
            "end_time": ended.map { .string(RFC2822.format($0)) } ?? .null,
            "forwarded_from": .null,
            "from": .string(from),
            "from_formatted": .string(from),
            "parent_call_sid": .null,
            "phone_number_sid": .null,
            "price": .null,
            "price_unit": "USD",
            "sid": .string(sid),
            "start_time": started.map { .string(RFC2822.format($0)) } ?? .null,
            "status": .string(status),
            "subresource_uris": .object([:]),
            "to": .string(to),
            "to_formatted": .string(to),
            "uri": .string("/2010-04-01/Accounts/\(accountSID)/Calls/\(sid).json"),
        ]
    }
}

/// Twilio's date format: `Mon, 23 Nov 2026 15:42:12 +0000`.
enum RFC2822 {
    static func format(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let day = String(format: "%02d", Int(parts.tm_mday))
        let clock = String(format: "%04d %02d:%02d:%02d", Int(parts.tm_year) + 1900, Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
        return "\(days[Int(parts.tm_wday)]), \(day) \(months[Int(parts.tm_mon)]) \(clock) +0000"
    }
}
