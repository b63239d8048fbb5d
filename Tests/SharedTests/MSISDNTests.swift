import Shared
import Testing

@Suite(.timeLimit(.minutes(2))) struct MSISDNTests {
    @Test(arguments: [
        ("+252662345700", "+252662345700"),
        ("252662345700", "+252662345700"),
        ("+855 12 345 678", "+85512345678"),
        ("00855-12-345-678", "+85512345678"),
        ("+44 (0)20 7946 0018", "+442079460018"),
        ("+1 (415) 555-2671", "+14155552671"),
        ("  +85510202103 ", "+85510202103"),
    ])
    func normalizesToE164(_ input: String, _ expected: String) {
        #expect(MSISDN(input)?.e164 == expected)
    }

    @Test(arguments: ["", "abc", "123", "+999123456789", "+2526623457001234567", "+855+12", "0662345700", "+1 555"])
    func rejectsImplausibleNumbers(_ input: String) {
        #expect(MSISDN(input) == nil)
    }
}
