import Foundation

/// How the autopilot drives one callout: the account's `settings.autopilot`, with the callout's own
/// `settings.autopilot` keys winning (objects merge key by key).
///
/// ```json
/// {"autopilot": {
///    "enabled": true,
///    "retry": {"statuses": ["busy", "not_answered", "failed"], "delays": ["5m", "15m", "60m"], "max_attempts": 3},
///    "calling_hours": {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "20:00"},
///    "urgent": false,
///    "time_zone": "Asia/Phnom_Penh",
///    "expires_at": "2026-12-24T00:00:00Z",
///    "remote_request_params": {"from": "1234", "url": "https://example.com/voice.xml"},
///    "weight": 1
/// }}
/// ```
public struct AutopilotPolicy: Sendable, Equatable {
    public var enabled = false
    /// Final call statuses after which the participation is called again (while attempts remain).
    public var retryStatuses: [String]
    /// Wait before each further attempt: the first after attempt 1, and so on; the last repeats.
    public var retryDelays: [Duration] = [.seconds(300), .seconds(900), .seconds(3600)]
    /// Calls per participation, the first included.
    public var maxAttempts = 3
    public var callingHours: CallingHours?
    /// An urgent callout (a disaster alert) calls at any hour, whatever its calling hours say.
    public var urgent = false
    /// The time zone of contacts that name none and whose number tells none.
    public var timeZone = "UTC"
    /// Participations still pending then are finished as `expired`.
    public var expiresAt: Date?
    /// The new calls' `remote_request_params` (Twilio's names: from, url, method, …).
    public var remoteRequestParams: JSONValue = .emptyObject
    /// The account's share of a trunk it shares with other accounts, relative to theirs.
    public var weight = 1.0

    /// The seeds' CALLOUT_PARTICIPATION_RETRY_STATUSES defaults to `failed` for the manual tasks; the autopilot
    /// retries the outcomes worth another ring unless told otherwise.
    public static let defaultRetryStatuses = ["busy", "not_answered", "failed"]

    public init(retryStatuses: [String] = Self.defaultRetryStatuses) {
        self.retryStatuses = retryStatuses
    }

    /// The policy of a callout from both settings objects; `defaults` supplies what neither names.
    public static func parse(
        account: JSONValue, callout: JSONValue, defaults: AutopilotPolicy = AutopilotPolicy()
    ) throws(ValidationErrors) -> AutopilotPolicy {
        let merged = merge(account["autopilot"]?.objectValue ?? [:], callout["autopilot"]?.objectValue ?? [:])
        return try parse(merged, defaults: defaults)
    }

    /// Checks the `autopilot` object of one settings value (as a client sends it), reporting under `settings`.
    public static func validate(settings: JSONValue) throws(ValidationErrors) {
        guard let autopilot = settings["autopilot"] else { return }
        guard let object = autopilot.objectValue else { throw ValidationErrors("settings", "autopilot must be an object") }
        _ = try parse(object, defaults: AutopilotPolicy())
    }

    static func parse(_ object: JSONObject, defaults: AutopilotPolicy) throws(ValidationErrors) -> AutopilotPolicy {
        var policy = defaults
        var errors = ValidationErrors()
        func invalid(_ key: String, _ expected: String) { errors.add("settings", "autopilot.\(key) must be \(expected)") }

        for (key, value) in object {
            switch key {
            case "enabled":
                if case .bool(let flag) = value { policy.enabled = flag } else { invalid(key, "true or false") }
            case "urgent":
                if case .bool(let flag) = value { policy.urgent = flag } else { invalid(key, "true or false") }
            case "time_zone":
                if let zone = value.stringValue, TimeZone(identifier: zone) != nil {
                    policy.timeZone = zone
                } else {
                    invalid(key, "a time zone name such as Asia/Phnom_Penh")
                }
            case "expires_at":
                if value.isNull {
                    policy.expiresAt = nil
                } else if let text = value.stringValue, case .instant(let date)? = TimestampFilter.parseValue(text) {
                    policy.expiresAt = date
                } else {
                    invalid(key, "an ISO 8601 time")
                }
            case "remote_request_params":
                if value.objectValue != nil { policy.remoteRequestParams = value } else { invalid(key, "an object") }
            case "weight":
                if let weight = value.doubleValue, weight > 0, weight <= 1_000_000 {
                    policy.weight = weight
                } else {
                    invalid(key, "a number above 0")
                }
            case "calling_hours":
                if value.isNull {
                    policy.callingHours = nil
                } else if let hours = CallingHours(value) {
                    policy.callingHours = hours
                } else {
                    invalid(key, "{\"days\": [\"mon\", …], \"start\": \"HH:MM\", \"end\": \"HH:MM\"}")
                }
            case "retry":
                guard let retry = value.objectValue else {
                    invalid(key, "an object")
                    continue
                }
                parseRetry(retry, into: &policy, invalid: invalid)
            default:
                errors.add("settings", "autopilot.\(key) is not a setting")
            }
        }
        try errors.throwIfAny()
        return policy
    }

    private static func parseRetry(_ retry: JSONObject, into policy: inout AutopilotPolicy, invalid: (String, String) -> Void) {
        for (key, value) in retry {
            switch key {
            case "statuses":
                let statuses = value.arrayValue?.compactMap(\.stringValue) ?? []
                let allowed = Set(PhoneCallStatus.finalStatuses.map(\.rawValue)).subtracting(["completed"])
                if value.arrayValue?.count == statuses.count, statuses.allSatisfy(allowed.contains) {
                    policy.retryStatuses = statuses
                } else {
                    invalid("retry.statuses", "a list of final statuses other than completed (\(allowed.sorted().joined(separator: ", ")))")
                }
            case "delays":
                let delays = value.arrayValue?.compactMap(RetryDelay.parse) ?? []
                if !delays.isEmpty, value.arrayValue?.count == delays.count {
                    policy.retryDelays = delays
                } else {
                    invalid("retry.delays", "a list of delays such as [\"5m\", \"15m\", \"60m\"] or seconds")
                }
            case "max_attempts":
                if case .integer(let count) = value, (1...AutopilotPolicy.attemptsLimit).contains(Int(count)) {
                    policy.maxAttempts = Int(count)
                } else {
                    invalid("retry.max_attempts", "a whole number from 1 to \(AutopilotPolicy.attemptsLimit)")
                }
            default:
                invalid("retry.\(key)", "one of statuses, delays, max_attempts")
            }
        }
    }

    /// No policy may ask for more calls per participation than this: retries never run away.
    public static let attemptsLimit = 20

    /// `base` with `override`'s keys; nested objects merge the same way.
    static func merge(_ base: JSONObject, _ override: JSONObject) -> JSONObject {
        var merged = base
        for (key, value) in override {
            if let inner = value.objectValue, let existing = merged[key]?.objectValue {
                merged[key] = .object(merge(existing, inner))
            } else {
                merged[key] = value
            }
        }
        return merged
    }
}

/// A retry delay: seconds as a number, or a number with a unit (`90s`, `5m`, `1h`, `1d`).
enum RetryDelay {
    static func parse(_ value: JSONValue) -> Duration? {
        if let seconds = value.doubleValue { return valid(seconds) }
        guard let text = value.stringValue, let unit = text.last, let number = Double(text.dropLast()) else { return nil }
        switch unit {
        case "s": return valid(number)
        case "m": return valid(number * 60)
        case "h": return valid(number * 3600)
        case "d": return valid(number * 86_400)
        default: return nil
        }
    }

    private static func valid(_ seconds: Double) -> Duration? {
        (0...(30 * 86_400)).contains(seconds) ? .milliseconds(Int64(seconds * 1000)) : nil
    }
}

/// The hours a non-urgent callout may ring a contact, in the contact's time zone.
public struct CallingHours: Sendable, Equatable {
    /// ISO days of week, 1 Monday … 7 Sunday.
    public var days: [Int]
    /// Local times as `HH:MM`; an end at or before the start runs past midnight.
    public var start: String
    public var end: String

    static let dayNames = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

    public init(days: [Int], start: String, end: String) {
        self.days = days
        self.start = start
        self.end = end
    }

    init?(_ value: JSONValue) {
        guard let object = value.objectValue, let start = object["start"]?.stringValue, let end = object["end"]?.stringValue,
            Self.isClockTime(start), Self.isClockTime(end)
        else { return nil }
        let names = object["days"]?.arrayValue ?? Self.dayNames.map { .string($0) }
        let days = names.compactMap { $0.stringValue.flatMap { Self.dayNames.firstIndex(of: $0.lowercased()) }.map { $0 + 1 } }
        guard !days.isEmpty, days.count == names.count, object.keys.allSatisfy(["days", "start", "end"].contains) else { return nil }
        self.init(days: Array(Set(days)).sorted(), start: start, end: end)
    }

    static func isClockTime(_ text: String) -> Bool {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 }), let hour = Int(parts[0]), let minute = Int(parts[1]) else { return false }
        return (0...23).contains(hour) && (0...59).contains(minute)
    }
}

extension JSONValue {
    public var doubleValue: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .number(let value): value
        default: nil
        }
    }
}
