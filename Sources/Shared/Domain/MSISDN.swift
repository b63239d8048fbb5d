/// A phone number in E.164 form (`+252662345700`), the only form SCFM stores and matches.
///
/// SCFM validated with Phony's "plausible" check and stored Phony's normalization. Here a number is
/// plausible when, after dropping spaces, dashes, dots, parentheses and a leading `+` or `00`, it is 7 to 15
/// digits that start with an assigned ITU country calling code and leave at least 4 digits of national
/// number. The `0` trunk prefix some countries write after the code (`+44 (0)20…`) is dropped.
public struct MSISDN: Sendable, Hashable, CustomStringConvertible {
    /// The normalized form, `+` and digits.
    public let e164: String

    public var description: String { e164 }

    /// Returns nil when the input is not a plausible international number.
    public init?(_ input: String) {
        var digits = ""
        var sawPlus = false
        for character in input.trimmingWhitespace() {
            switch character {
            case "0"..."9": digits.append(character)
            case "+" where digits.isEmpty && !sawPlus: sawPlus = true
            case " ", "-", ".", "(", ")", "/": continue
            default: return nil
            }
        }
        if !sawPlus, digits.hasPrefix("00") { digits.removeFirst(2) }
        guard let code = CountryCallingCodes.prefix(of: digits) else { return nil }
        var national = digits.dropFirst(code.count)
        if CountryCallingCodes.dropsTrunkZero(code), national.first == "0" { national = national.dropFirst() }
        let normalized = code + national
        guard (7...15).contains(normalized.count), national.count >= 4 else { return nil }
        e164 = "+" + normalized
    }
}
