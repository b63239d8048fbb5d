import Foundation
import Shared
import Testing

@Suite(.timeLimit(.minutes(2))) struct TimestampFilterTests {
    private func parse(_ text: String) throws -> TimestampFilter.Value? {
        try TimestampFilter.parse(["created_at_before": .string(text)], columns: [("created_at", "created_at")]).first?.value
    }

    @Test func readsInstantsInTheFormsClientsSend() throws {
        let expected = Date(timeIntervalSince1970: 1_511_919_362)  // 2017-11-29T01:36:02Z
        #expect(try parse("2017-11-29 01:36:02") == .instant(expected))
        #expect(try parse("2017-11-29T01:36:02Z") == .instant(expected))
        #expect(try parse("2017-11-29T08:36:02+07:00") == .instant(expected))
        #expect(try parse("2017-11-29T01:36:02 UTC") == .instant(expected))
        #expect(try parse("2017-11-29T01:36") == .instant(expected.addingTimeInterval(-2)))
    }

    @Test func aDateAloneIsAWholeDay() throws {
        #expect(try parse("2017-11-29") == .day(Date(timeIntervalSince1970: 1_511_913_600)))
    }

    @Test(arguments: ["yesterday", "2017-13-01", "2017-02-30", "2017-11-29 25:00", "29/11/2017"])
    func rejectsWhatIsNoDate(_ text: String) {
        #expect(throws: FilterError.self) { try parse(text) }
    }

    @Test func timestampsRenderInUTCWithMilliseconds() {
        #expect(Timestamp.iso8601(Date(timeIntervalSince1970: 1_511_414_527.519)) == "2017-11-23T05:22:07.519Z")
        #expect(Timestamp.iso8601(Date(timeIntervalSince1970: -0.001)) == "1969-12-31T23:59:59.999Z")
        #expect(Timestamp.iso8601(Date(timeIntervalSince1970: 4_102_444_800)) == "2100-01-01T00:00:00.000Z")
    }
}
