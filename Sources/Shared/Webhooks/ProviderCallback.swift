import Foundation

/// A request Twilio or Somleng made about a call: a status callback (`StatusCallback`) or a call flow request
/// (`Url`), with Twilio's parameters (`CallSid`, `AccountSid`, `From`, `To`, `CallStatus`, `Direction`,
/// `ApiVersion`, …). The pairs are kept as sent, since the signature covers them exactly.
public struct ProviderCallback: Sendable {
    public let parameters: [(String, String)]

    public init(parameters: [(String, String)]) {
        self.parameters = parameters
    }

    /// `application/x-www-form-urlencoded`, the only body the providers send.
    public init(form: String) {
        self.init(parameters: FormEncoding.decode(form))
    }

    public subscript(name: String) -> String? {
        parameters.last { $0.0 == name }.map { $0.1 }
    }

    public var accountSID: String? { self["AccountSid"].flatMap { $0.isEmpty ? nil : $0 } }
    public var callSID: String? { self["CallSid"].flatMap { $0.isEmpty ? nil : $0 } }
    public var callStatus: String? { self["CallStatus"] }
    /// `inbound`, `outbound-api` or `outbound-dial`.
    public var direction: String { self["Direction"].flatMap { $0.isEmpty ? nil : $0 } ?? "outbound-api" }
    public var isInbound: Bool { direction == "inbound" }

    /// The remote phone call event's `details`: every parameter, the last value of a repeated name.
    public var details: JSONObject {
        var object = JSONObject()
        for (name, value) in parameters { object[name] = .string(value) }
        return object
    }

    /// What must be present once the request is known to be genuine.
    public func validate() throws(ValidationErrors) {
        var errors = ValidationErrors()
        if callSID == nil { errors.add("CallSid", ValidationErrors.blank) }
        if isInbound, (self["From"] ?? "").isEmpty { errors.add("From", ValidationErrors.blank) }
        try errors.throwIfAny()
    }
}
