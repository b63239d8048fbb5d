import Console
import Foundation
import Testing

/// The console's second factor against RFC 6238's SHA-1 test vectors (their last six digits), base32 against
/// RFC 4648's, and the window and replay rules.
@Suite struct TOTPTests {
    static let secret = Array("12345678901234567890".utf8)

    @Test func rfc6238Vectors() {
        for (time, expected) in [(59, "287082"), (1_111_111_109, "081804"), (1_234_567_890, "005924"), (2_000_000_000, "279037")] {
            #expect(TOTP.code(secret: Self.secret, step: Int64(time) / 30) == expected, "T = \(time)")
        }
    }

    @Test func base32RoundTrips() {
        #expect(Base32.encode(Array("foobar".utf8)) == "MZXW6YTBOI")
        #expect(Base32.decode("MZXW6YTBOI======") == Array("foobar".utf8))
        #expect(Base32.decode("mzxw6ytboi") == Array("foobar".utf8))
        #expect(Base32.decode("not base32!") == nil)
        let secret = TOTP.generateSecret()
        #expect(secret.count == 32 && Base32.decode(secret)?.count == 20)
    }

    @Test func aCodeCountsOnceWithinOneStepOfDrift() {
        let base32 = Base32.encode(Self.secret)
        let now = Date(timeIntervalSince1970: 1_234_567_890)
        let step = TOTP.step(at: now)
        #expect(TOTP.verify("005924", secret: base32, at: now) == step)
        #expect(TOTP.verify("005 924", secret: base32, at: now) == step)
        #expect(TOTP.verify("005924", secret: base32, at: now.addingTimeInterval(30)) == step, "one step late")
        #expect(TOTP.verify("005924", secret: base32, at: now.addingTimeInterval(90)) == nil, "three steps late")
        #expect(TOTP.verify("005924", secret: base32, at: now, after: step) == nil, "a used code is refused")
        #expect(TOTP.verify("000000", secret: base32, at: now) == nil)
        #expect(TOTP.verify("00592", secret: base32, at: now) == nil)
        #expect(TOTP.provisioningURI(secret: base32, account: "a@b.org").hasPrefix("otpauth://totp/SCFM:a@b.org?secret=\(base32)&issuer=SCFM"))
    }
}
