import Foundation
import Shared
import Testing

/// Runs `scripts/twilio-reference.py` with the Python that has the official `twilio` library (`TWILIO_PYTHON`,
/// which `make test` sets up in `.scfm/venv`), so tests compare our signatures and TwiML with Twilio's own.
enum TwilioReference {
    static let python = ProcessInfo.processInfo.environment["TWILIO_PYTHON"]
    static var isAvailable: Bool { python != nil }

    static func answer(_ request: JSONValue) throws -> JSONValue {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/twilio-reference.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python ?? "python3")
        process.arguments = [script.path]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(JSONSerializer.string(request).utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "twilio-reference.py failed")
        return try JSONParser.parse(Array(data))
    }
}
