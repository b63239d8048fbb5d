import Foundation
import Logging
import NIOCore
import PostgresNIO
import Shared

/// Recorded messages uploaded through the console (`console_audio_files`, migration 0015), served without a
/// session at `/console/audio/<token>.<ext>` so the provider can `<Play>` them.
///
/// Invariants: only MP3 and WAV are kept, recognised by their first bytes (the name and the browser's type
/// are not trusted), at most `maximumSize` bytes; a file is found by its account for the console and by its
/// 256-bit random token for the provider, never by its sequential id.
public struct AudioFiles: Sendable {
    public static let maximumSize = 10 * 1024 * 1024

    public struct File: Sendable {
        public let id: Int64
        public let token: String
        public let filename: String
        public let contentType: String
        public let byteSize: Int

        /// The path the provider fetches.
        public var path: String { "/console/audio/\(token).\(contentType == "audio/wav" ? "wav" : "mp3")" }
    }

    public struct Refused: Error, CustomStringConvertible {
        public let description: String
    }

    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// The type the content's first bytes show: RIFF…WAVE, an ID3 tag, or an MPEG audio frame sync.
    public static func contentType(of bytes: ByteBuffer) -> String? {
        guard let head = bytes.getBytes(at: bytes.readerIndex, length: min(12, bytes.readableBytes)), head.count >= 4 else { return nil }
        if head.count >= 12, head[0..<4] == [0x52, 0x49, 0x46, 0x46], head[8..<12] == [0x57, 0x41, 0x56, 0x45] { return "audio/wav" }
        if head[0..<3] == [0x49, 0x44, 0x33] { return "audio/mpeg" }
        if head[0] == 0xFF, head[1] & 0xE0 == 0xE0 { return "audio/mpeg" }
        return nil
    }

    public func store(accountID: Int64, userID: Int64?, filename: String, content: ByteBuffer) async throws -> File {
        guard content.readableBytes <= Self.maximumSize else { throw Refused(description: "the file is larger than 10 MB") }
        guard let type = Self.contentType(of: content) else { throw Refused(description: "the file is not an MP3 or WAV recording") }
        let name = String(filename.prefix(200))
        let token = ConsoleSessions.randomToken()
        let id = try await client.query(
            """
            INSERT INTO console_audio_files (account_id, token, filename, content_type, byte_size, content, created_by)
            VALUES (\(accountID), \(token), \(name), \(type), \(content.readableBytes), \(content), \(userID))
            RETURNING id
            """, logger: logger
        ).single { try $0.decode(Int64.self) }
        return File(id: id, token: token, filename: name, contentType: type, byteSize: content.readableBytes)
    }

    /// The file a provider asks for, by its token (with or without the extension).
    public func content(token: String) async throws -> (contentType: String, content: ByteBuffer)? {
        let bare = token.split(separator: ".").first.map(String.init) ?? token
        guard bare.count == 43 else { return nil }
        let rows = try await client.query(
            "SELECT content_type, content FROM console_audio_files WHERE token = \(bare)", logger: logger)
        for try await (type, content) in rows.decode((String, ByteBuffer).self) { return (type, content) }
        return nil
    }

    /// One recording of the account, by its token (nil for another account's or none).
    public func find(accountID: Int64, token: String) async throws -> File? {
        let rows = try await client.query(
            """
            SELECT id, token, filename, content_type, byte_size FROM console_audio_files
            WHERE account_id = \(accountID) AND token = \(token)
            """, logger: logger)
        for try await (id, token, filename, type, size) in rows.decode((Int64, String, String, String, Int).self) {
            return File(id: id, token: token, filename: filename, contentType: type, byteSize: size)
        }
        return nil
    }

    /// The account's recordings, newest first.
    public func recent(accountID: Int64, limit: Int = 20) async throws -> [File] {
        var files: [File] = []
        let rows = try await client.query(
            """
            SELECT id, token, filename, content_type, byte_size FROM console_audio_files
            WHERE account_id = \(accountID) ORDER BY id DESC LIMIT \(limit)
            """, logger: logger)
        for try await (id, token, filename, type, size) in rows.decode((Int64, String, String, String, Int).self) {
            files.append(File(id: id, token: token, filename: filename, contentType: type, byteSize: size))
        }
        return files
    }
}

/// The console's CSV imports (`console_imports`, migration 0015): each one's figures and refused lines, for the
/// import history and the error report an operator downloads and fixes.
public struct ImportHistory: Sendable {
    /// Refused lines kept per import; `rejected` counts every one.
    public static let errorsKept = 1000

    public struct Entry: Sendable {
        public let id: Int64
        public let destination: String
        public let filename: String
        public let status: String
        public let failure: String?
        public let summary: ContactImport.Summary
        public let errors: [ContactImport.LineError]
        public let createdAt: Date
    }

    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func record(
        accountID: Int64, userID: Int64?, destination: ContactImport.Destination, filename: String, summary: ContactImport.Summary,
        errors: [ContactImport.LineError], failure: String?
    ) async throws -> Int64 {
        let kept = JSONValue.array(
            errors.prefix(Self.errorsKept).map { ["line": .integer(Int64($0.line)), "message": .string($0.message)] })
        return try await client.query(
            """
            INSERT INTO console_imports (account_id, user_id, destination, filename, status, failure, lines, created, updated, repeated,
                                         rejected, errors)
            VALUES (\(accountID), \(userID), \(destination.rawValue), \(String(filename.prefix(200))), \(failure == nil ? "finished" : "failed"),
                    \(failure), \(summary.lines), \(summary.created), \(summary.updated), \(summary.repeated), \(summary.rejected), \(kept))
            RETURNING id
            """, logger: logger
        ).single { try $0.decode(Int64.self) }
    }

    static let columns = "id, destination, filename, status, failure, lines, created, updated, repeated, rejected, errors, created_at"

    static func entry(_ row: PostgresRow) throws -> Entry {
        let (id, destination, filename, status, failure, lines, created, updated, repeated, rejected, errors, createdAt) =
            try row.decode((Int64, String, String, String, String?, Int, Int, Int, Int, Int, JSONValue, Date).self)
        let lineErrors = (errors.arrayValue ?? []).compactMap { error -> ContactImport.LineError? in
            guard let line = error["line"]?.integerValue.map(Int.init), let message = error["message"]?.stringValue else { return nil }
            return ContactImport.LineError(line: line, message: message)
        }
        return Entry(
            id: id, destination: destination, filename: filename, status: status, failure: failure,
            summary: ContactImport.Summary(lines: lines, rejected: rejected, created: created, updated: updated, repeated: repeated),
            errors: lineErrors, createdAt: createdAt)
    }

    /// One import of the account (nil for another account's, or none).
    public func find(accountID: Int64, id: Int64) async throws -> Entry? {
        let rows = try await client.query(
            "SELECT \(unescaped: Self.columns) FROM console_imports WHERE account_id = \(accountID) AND id = \(id)", logger: logger)
        for try await row in rows { return try Self.entry(row) }
        return nil
    }

    /// The account's newest imports to one destination.
    public func recent(accountID: Int64, destination: ContactImport.Destination, limit: Int = 10) async throws -> [Entry] {
        var entries: [Entry] = []
        let rows = try await client.query(
            """
            SELECT \(unescaped: Self.columns) FROM console_imports
            WHERE account_id = \(accountID) AND destination = \(destination.rawValue) ORDER BY id DESC LIMIT \(limit)
            """, logger: logger)
        for try await row in rows { entries.append(try Self.entry(row)) }
        return entries
    }
}
