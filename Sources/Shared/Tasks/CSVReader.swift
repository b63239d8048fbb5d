import Foundation

/// Reads RFC 4180 CSV from a file in chunks, a record at a time: fields separated by commas, optionally
/// quoted (`"a, b"`, `""` for a quote inside), quoted fields may span lines; CRLF or LF line ends. Memory stays
/// at one chunk and one record whatever the file's size.
public struct CSVReader {
    public struct Record {
        /// The file line the record starts on (1 is the first line).
        public let line: Int
        public let fields: [String]
    }

    public struct MalformedRecord: Error, CustomStringConvertible {
        public let line: Int
        public let description: String
    }

    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var position = 0
    private var endOfFile = false
    private var line = 1
    /// Bytes handed to the parser so far, for a progress figure.
    public private(set) var bytesRead: Int64 = 0
    public let byteCount: Int64

    public init(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path])
        }
        self.handle = handle
        byteCount = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
    }

    /// The next record, nil at the end of the file. A record with an unterminated quote is malformed; reading
    /// goes on after it is reported.
    public mutating func next() throws -> Record? {
        guard try fill() else { return nil }
        let startLine = line
        var fields: [String] = []
        var field: [UInt8] = []
        var quoted = false
        var atFieldStart = true
        while true {
            guard try fill() else {
                if quoted { throw MalformedRecord(line: startLine, description: "a quoted field is not closed before the end of the file") }
                if field.last == UInt8(ascii: "\r") { field.removeLast() }
                fields.append(String(decoding: field, as: UTF8.self))
                return Record(line: startLine, fields: fields)
            }
            let byte = buffer[position]
            position += 1
            bytesRead += 1
            if quoted {
                if byte == UInt8(ascii: "\"") {
                    guard try fill() else { quoted = false; continue }
                    if buffer[position] == UInt8(ascii: "\"") {
                        field.append(byte)
                        position += 1
                        bytesRead += 1
                    } else {
                        quoted = false
                    }
                } else {
                    if byte == UInt8(ascii: "\n") { line += 1 }
                    field.append(byte)
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\"") where atFieldStart:
                quoted = true
                atFieldStart = false
            case UInt8(ascii: ","):
                fields.append(String(decoding: field, as: UTF8.self))
                field.removeAll(keepingCapacity: true)
                atFieldStart = true
            case UInt8(ascii: "\n"):
                line += 1
                if field.last == UInt8(ascii: "\r") { field.removeLast() }
                fields.append(String(decoding: field, as: UTF8.self))
                return Record(line: startLine, fields: fields)
            default:
                field.append(byte)
                atFieldStart = false
            }
        }
    }

    /// Makes sure a byte is available; false at the end of the file.
    private mutating func fill() throws -> Bool {
        if position < buffer.count { return true }
        if endOfFile { return false }
        let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
        if chunk.isEmpty {
            endOfFile = true
            try handle.close()
            return false
        }
        buffer = Array(chunk)
        position = 0
        return true
    }
}
