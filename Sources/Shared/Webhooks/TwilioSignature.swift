import Crypto
import Foundation

/// Twilio's request signature (`X-Twilio-Signature`), which Somleng computes the same way: base64 of
/// HMAC-SHA1, keyed with the account's auth token, over the full URL the provider requested followed by every
/// POST parameter's name and value, sorted by name (then by value for a repeated name).
///
/// Twilio is inconsistent about the default port (`https://host/x` vs `https://host:443/x`), so, like Twilio's
/// own validators, a signature is accepted for the URL with or without it.
public enum TwilioSignature {
    public static let header = "X-Twilio-Signature"

    public static func compute(url: String, parameters: [(String, String)], authToken: String) -> String {
        var payload = url
        // Byte order of UTF-8 is code point order, the order Twilio's libraries sort in.
        let sorted = parameters.sorted { left, right in
            left.0 == right.0 ? left.1.utf8.lexicographicallyPrecedes(right.1.utf8) : left.0.utf8.lexicographicallyPrecedes(right.0.utf8)
        }
        for (name, value) in sorted {
            payload += name + value
        }
        let key = SymmetricKey(data: Array(authToken.utf8))
        let code = HMAC<Insecure.SHA1>.authenticationCode(for: Array(payload.utf8), using: key)
        return Data(code).base64EncodedString()
    }

    public static func isValid(signature: String?, url: String, parameters: [(String, String)], authToken: String) -> Bool {
        guard let signature, !signature.isEmpty, !authToken.isEmpty else { return false }
        // Repeated identical pairs count once, as in Twilio's validators.
        var seen = Set<String>()
        let unique = parameters.filter { seen.insert($0.0 + "\u{0}" + $0.1).inserted }
        return urlVariants(url).contains { variant in
            constantTimeEquals(compute(url: variant, parameters: unique, authToken: authToken), signature)
        }
    }

    /// The URL as given, with the scheme's default port removed, and with it added.
    static func urlVariants(_ url: String) -> [String] {
        guard var components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            let defaultPort = ["https": 443, "http": 80][scheme]
        else { return [url] }
        var variants = [url]
        if components.port == nil {
            components.port = defaultPort
        } else if components.port == defaultPort {
            components.port = nil
        } else {
            return variants
        }
        if let other = components.string { variants.append(other) }
        return variants
    }

    static func constantTimeEquals(_ left: String, _ right: String) -> Bool {
        let a = Array(left.utf8)
        let b = Array(right.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
