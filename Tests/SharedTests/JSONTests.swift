import Shared
import Testing

@Suite(.timeLimit(.minutes(2))) struct JSONTests {
    @Test func roundTripKeepsKeyOrderAndTypes() throws {
        let text = #"{"z":1,"a":[true,false,null],"m":{"x":"y"},"n":-1.5,"s":"q\"\\\n\u00e9\ud83d\ude00"}"#
        let value = try JSONParser.parse(text)
        #expect(value.objectValue?.keys == ["z", "a", "m", "n", "s"])
        #expect(value["s"] == .string("q\"\\\né😀"))
        #expect(JSONSerializer.string(value) == #"{"z":1,"a":[true,false,null],"m":{"x":"y"},"n":-1.5,"s":"q\"\\\né😀"}"#)
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "tru", "01", "1.", "\"\\x\"", "{}x", "\"\u{01}\"", "\"\\ud800\""])
    func rejectsMalformedInput(_ text: String) {
        #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse(text) }
    }

    @Test func refusesHostileNesting() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse(deep) }
    }

    @Test func integersStayIntegers() throws {
        #expect(try JSONParser.parse("9007199254740993") == .integer(9_007_199_254_740_993))
        #expect(JSONSerializer.string(.number(2.0)) == "2")
        #expect(JSONSerializer.string(.number(0.25)) == "0.25")
        // Integers are written digit by digit: the edges of Int64 and zero.
        #expect(
            JSONSerializer.string([.integer(0), .integer(-7), .integer(.max), .integer(.min)])
                == "[0,-7,9223372036854775807,-9223372036854775808]")
        #expect(JSONSerializer.string(.string("\u{01}\u{0C}\u{08}\ttab")) == #""\u0001\f\b\ttab""#)
    }
}
