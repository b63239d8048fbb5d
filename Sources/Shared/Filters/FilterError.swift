/// A filter parameter that cannot be understood, such as `q[created_at_before]=yesterday`: a 400 naming it.
/// `parameter` is the full name the client sent (`q[created_at_before]`).
public struct FilterError: Error, Sendable, Equatable, CustomStringConvertible {
    public let parameter: String
    public let reason: String

    public init(parameter: String, reason: String) {
        self.parameter = parameter
        self.reason = reason
    }

    public var description: String { "\(parameter) \(reason)" }
}
