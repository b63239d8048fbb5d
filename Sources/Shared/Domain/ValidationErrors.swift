/// Validation failures by attribute, rendered as `{"errors":{"msisdn":["can't be blank"]}}` with 422.
public struct ValidationErrors: Error, Sendable, Equatable {
    public private(set) var messages: [(attribute: String, messages: [String])] = []

    public init() {}

    public init(_ attribute: String, _ message: String) {
        add(attribute, message)
    }

    public var isEmpty: Bool { messages.isEmpty }

    public mutating func add(_ attribute: String, _ message: String) {
        if let index = messages.firstIndex(where: { $0.attribute == attribute }) {
            messages[index].messages.append(message)
        } else {
            messages.append((attribute, [message]))
        }
    }

    /// Adds every message of `other`, attribute by attribute.
    public mutating func add(_ other: ValidationErrors) {
        for entry in other.messages {
            for message in entry.messages { add(entry.attribute, message) }
        }
    }

    public func throwIfAny() throws(ValidationErrors) {
        if !isEmpty { throw self }
    }

    public var json: JSONValue {
        var errors = JSONObject()
        for entry in messages { errors[entry.attribute] = .array(entry.messages.map { .string($0) }) }
        return ["errors": .object(errors)]
    }

    public static func == (lhs: ValidationErrors, rhs: ValidationErrors) -> Bool {
        lhs.messages.elementsEqual(rhs.messages) { $0.attribute == $1.attribute && $0.messages == $1.messages }
    }

    public static let blank = "can't be blank"
    public static let taken = "has already been taken"
    public static let notIncluded = "is not included in the list"
    public static let invalidNumber = "is an invalid number"
    public static let mustExist = "must exist"
}

/// The record does not exist, or belongs to another account: both are 404, so ids of other accounts leak
/// nothing.
public struct RecordNotFound: Error, Sendable {
    public init() {}
}

/// The record is locked by other work longer than a request should wait (a delete behind a running batch
/// chunk): 503 with `Retry-After`, worth trying again shortly.
public struct BusyRecord: Error, Sendable {
    public let reason: String
    public init(reason: String) { self.reason = reason }
}
