import Crypto
import Foundation

/// The signature of an outbound webhook delivery, in the scheme Stripe made familiar:
/// `X-SCFM-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the endpoint's secret>`.
/// The timestamp inside the signed text lets a receiver refuse replays older than it tolerates.
public enum WebhookSignature {
    public static let header = "X-SCFM-Signature"

    public static func sign(body: [UInt8], secret: String, timestamp: Int64) -> String {
        "t=\(timestamp),v1=\(hexDigest(body: body, secret: secret, timestamp: timestamp))"
    }

    /// What a receiver does: recompute and compare, within `tolerance` seconds of `now`.
    public static func isValid(header: String, body: [UInt8], secret: String, now: Date = Date(), tolerance: TimeInterval = 300) -> Bool {
        var timestamp: Int64?
        var signatures: [String] = []
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { String($0.trimmingWhitespace()) }
            guard pair.count == 2 else { continue }
            if pair[0] == "t" { timestamp = Int64(pair[1]) }
            if pair[0] == "v1" { signatures.append(pair[1]) }
        }
        guard let timestamp, abs(now.timeIntervalSince1970 - Double(timestamp)) <= tolerance else { return false }
        let expected = hexDigest(body: body, secret: secret, timestamp: timestamp)
        return signatures.contains { constantTimeEqual($0, expected) }
    }

    static func hexDigest(body: [UInt8], secret: String, timestamp: Int64) -> String {
        let key = SymmetricKey(data: Array(secret.utf8))
        let code = HMAC<SHA256>.authenticationCode(for: Array("\(timestamp).".utf8) + body, using: key)
        return code.map { String(format: "%02x", $0) }.joined()
    }

    static func constantTimeEqual(_ left: String, _ right: String) -> Bool {
        let a = Array(left.utf8), b = Array(right.utf8)
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// A new endpoint's secret: 32 random bytes, hex, prefixed so it is recognisable in a config file.
    public static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return "whsec_" + (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}
