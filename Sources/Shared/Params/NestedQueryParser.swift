/// Parses `application/x-www-form-urlencoded` text with Rails' bracket notation into a JSON object, the way
/// Rack's `parse_nested_query` does: `metadata[address][city]=Phnom+Penh`, `permissions[]=super_admin`,
/// `items[][name]=a`.
public enum NestedQueryParser {
    public struct MalformedParameters: Error, Sendable, CustomStringConvertible {
        public let key: String
        public var tooMany = false
        public var description: String {
            tooMany
                ? "more than \(NestedQueryParser.maximumKeysPerObject) keys in one object (at \"\(key)\")"
                : "conflicting or malformed parameter \"\(key)\""
        }
    }

    /// At most this many keys in any one object (Rack limits parameters the same way): parsing stays linear,
    /// and no handler walks a huge object.
    public static let maximumKeysPerObject = 1000

    /// Deeper nesting than this is refused, as Rack refuses it, so a hostile key cannot exhaust the stack.
    public static let maximumDepth = 32

    public static func parse(_ text: Substring) throws(MalformedParameters) -> JSONObject {
        var root = JSONValue.object(JSONObject())
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = percentDecode(parts[0])
            guard !key.isEmpty else { continue }
            let value: JSONValue = parts.count > 1 ? .string(percentDecode(parts[1])) : .null
            let path = try keyPath(key)
            try assign(value, at: path[...], in: &root, fullKey: key)
        }
        return root.objectValue ?? JSONObject()
    }

    public static func parse(_ text: String) throws(MalformedParameters) -> JSONObject {
        try parse(text[...])
    }

    enum PathComponent: Equatable {
        case key(String)
        case append
    }

    /// `a[b][]` → [.key("a"), .key("b"), .append]
    static func keyPath(_ key: String) throws(MalformedParameters) -> [PathComponent] {
        guard let open = key.firstIndex(of: "[") else { return [.key(key)] }
        var components: [PathComponent] = [.key(String(key[..<open]))]
        var rest = key[open...]
        while rest.first == "[" {
            guard let close = rest.firstIndex(of: "]") else { break }
            let inner = rest[rest.index(after: rest.startIndex)..<close]
            components.append(inner.isEmpty ? .append : .key(String(inner)))
            rest = rest[rest.index(after: close)...]
            guard components.count <= maximumDepth else { throw MalformedParameters(key: key) }
        }
        if case .key(let first) = components[0], first.isEmpty { throw MalformedParameters(key: key) }
        return components
    }

    private static func assign(
        _ value: JSONValue, at path: ArraySlice<PathComponent>, in container: inout JSONValue, fullKey: String
    ) throws(MalformedParameters) {
        guard let head = path.first else {
            container = value
            return
        }
        let rest = path.dropFirst()
        switch head {
        case .key(let name):
            guard case .object(var object) = container else { throw MalformedParameters(key: fullKey) }
            // Each level is taken out of its parent before it is changed (the parent keeps .null meanwhile),
            // so it is uniquely referenced and changed in place: copying it per parameter made parsing O(n²).
            container = .null
            var child = defaultContainer(for: rest.first)
            if let existing = object[name] {
                object[name] = .null
                child = existing
            } else if object.count >= maximumKeysPerObject {
                throw MalformedParameters(key: fullKey, tooMany: true)
            }
            try assign(value, at: rest, in: &child, fullKey: fullKey)
            object[name] = child
            container = .object(object)
        case .append:
            guard case .array(var array) = container else { throw MalformedParameters(key: fullKey) }
            container = .null
            if rest.isEmpty {
                array.append(value)
            } else if case .key? = rest.first, case .object(let last)? = array.last, !hasPath(last, rest) {
                // `items[][name]=a&items[][phone]=1` builds one element until a key repeats, as Rack does.
                var element = JSONValue.object(last)
                array[array.count - 1] = .null
                try assign(value, at: rest, in: &element, fullKey: fullKey)
                array[array.count - 1] = element
            } else {
                var element = defaultContainer(for: rest.first)
                try assign(value, at: rest, in: &element, fullKey: fullKey)
                array.append(element)
            }
            container = .array(array)
        }
    }

    /// Whether `object` already holds a value at `path` (Rack's `params_hash_has_key?`).
    private static func hasPath(_ object: JSONObject, _ path: ArraySlice<PathComponent>) -> Bool {
        guard case .key(let key)? = path.first, let existing = object[key] else { return false }
        if path.count == 1 { return true }
        guard case .object(let nested) = existing else { return false }
        return hasPath(nested, path.dropFirst())
    }

    private static func defaultContainer(for next: PathComponent?) -> JSONValue {
        switch next {
        case .none: return .null
        case .key: return .object(JSONObject())
        case .append: return .array([])
        }
    }

    /// Decodes `%XX` escapes and `+` as space; an invalid escape is kept literally, as browsers send it.
    public static func percentDecode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), iterator.count >= 2,
                let high = hexValue(iterator[iterator.startIndex]),
                let low = hexValue(iterator[iterator.startIndex + 1])
            {
                bytes.append(high << 4 | low)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
