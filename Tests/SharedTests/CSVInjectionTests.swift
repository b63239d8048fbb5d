import Testing

@testable import Shared

/// Exported cells a spreadsheet would run as formulas are defused; numbers and phone numbers stay as they are.
@Suite(.timeLimit(.minutes(2))) struct CSVInjectionTests {
    @Test func formulaCellsGetALeadingQuote() {
        #expect(
            ResultsExport.csvLine(["=HYPERLINK(\"http://x\")", "@SUM(A1)", "+cmd|' /C calc'!A0", "-2+3", "\tx"])
                == "\"'=HYPERLINK(\"\"http://x\"\")\",'@SUM(A1),'+cmd|' /C calc'!A0,-2+3,'\tx\n")
        #expect(ResultsExport.csvLine(["+85512345678", "-1", "42", "{\"a\":1}", ""]) == "+85512345678,-1,42,\"{\"\"a\"\":1}\",\n")
    }
}
