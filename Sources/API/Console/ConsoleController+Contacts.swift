import Console
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Shared
import Synchronization

/// The console's contacts and do-not-call pages: search, CSV import with its refused lines, import history.
///
/// Invariants: every read is scoped to the session's account; an import is streamed to a temporary file (at
/// most `maximumImportSize`) and loaded by `ContactImport` in one set-based statement, all or nothing; its
/// refused lines are kept (the first 1,000) and downloadable as CSV with their line numbers.
extension ConsoleController {
    static let maximumImportSize = 200 * 1024 * 1024
    static let pageSize = 50

    /// `?msisdn=` and `?key=&value=` (a metadata key and value), as the REST API's `q[msisdn]` and
    /// `q[metadata][key]` read them. Returns the filter, the values to show back in the form, and the
    /// parameters themselves (a population's `contact_filter_params`).
    static func contactFilter(_ query: [String: String]) throws -> (filter: RecordFilter, values: [String: String], parameters: JSONObject) {
        var q: JSONObject = [:]
        var values: [String: String] = [:]
        if let msisdn = query["msisdn"]?.trimmingCharacters(in: .whitespaces), !msisdn.isEmpty {
            q["msisdn"] = .string(msisdn)
            values["msisdn"] = msisdn
        }
        var metadata: JSONObject = [:]
        for index in 1...3 {
            let suffix = index == 1 ? "" : "_\(index)"
            guard let key = query["key\(suffix)"]?.trimmingCharacters(in: .whitespaces), !key.isEmpty, key.count <= 100,
                let value = query["value\(suffix)"]?.trimmingCharacters(in: .whitespaces), value.count <= 500
            else { continue }
            metadata[key] = .string(value)
            values["key\(suffix)"] = key
            values["value\(suffix)"] = value
        }
        if !metadata.isEmpty { q["metadata"] = .object(metadata) }
        do {
            return (try RecordFilter.contacts(q), values, q)
        } catch {
            throw APIError.badRequest(error.description)
        }
    }

    static func query(_ request: Request) -> [String: String] {
        var values: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { values[String(key)] = String(value) }
        return values
    }

    @Sendable func contactsPage(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await numbersPage(request, destination: .contacts)
    }

    @Sendable func doNotCallPage(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await numbersPage(request, destination: .doNotCallList)
    }

    func numbersPage(_ request: Request, destination: ContactImport.Destination) async throws -> Response {
        guard let session = try await session(request) else { return Self.redirect(to: "/console/sign_in") }
        let account = session.user.accountID
        let query = Self.query(request)
        let (filter, values, _) = try Self.contactFilter(query)
        let pageNumber = max(1, min(Int(query["page"] ?? "") ?? 1, 10_000))
        let pageRequest = PageRequest(page: pageNumber, perPage: Self.pageSize)
        let found: Page<Contact> =
            destination == .contacts
            ? try await ContactRepository(client: database, logger: logger).index(accountID: account, filter: filter, page: pageRequest)
            : try await DoNotCallRepository(client: database, logger: logger).index(accountID: account, filter: filter, page: pageRequest)
        let rows: [[String: Any]] = found.records.map { contact in
            [
                "id": contact.id, "msisdn": contact.msisdn,
                "metadata": (contact.metadata.objectValue ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.scalarText ?? "…")" }
                    .joined(separator: ", "),
            ]
        }
        let imports = try await ImportHistory(client: database, logger: logger).recent(accountID: account, destination: destination)
        var search = values
        search["page"] = String(pageNumber)
        let more = Int64(pageNumber * Self.pageSize) < found.total
        let queryString = values.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.urlEncoded($0.value))" }.joined(separator: "&")
        let path = destination == .contacts ? "/console/contacts" : "/console/do_not_call"
        let pageValues: [String: Any] = [
            "rows": rows, "total": found.total, "search": search, "path": path, "destination": destination.rawValue,
            "isContacts": destination == .contacts, "canImport": session.user.role.operates, "csrf": session.csrfToken,
            "imports": imports.map(importValues),
            "next": more ? "\(path)?\(queryString.isEmpty ? "" : queryString + "&")page=\(pageNumber + 1)" : "",
            "previous": pageNumber > 1 ? "\(path)?\(queryString.isEmpty ? "" : queryString + "&")page=\(pageNumber - 1)" : "",
        ]
        return page(
            "numbers", title: destination == .contacts ? text.contactsTitle : text.doNotCallTitle, session: session, values: pageValues)
    }

    func importValues(_ entry: ImportHistory.Entry) -> [String: Any] {
        [
            "id": entry.id, "filename": entry.filename, "at": Timestamp.iso8601(entry.createdAt), "lines": entry.summary.lines,
            "created": entry.summary.created, "updated": entry.summary.updated, "rejected": entry.summary.rejected,
            "failed": entry.status == "failed", "failure": entry.failure ?? "",
        ]
    }

    /// The live recipient count of the compose page: contacts matching the filter (`{"count": n}`), minus
    /// nothing (the do-not-call list is applied when calls are made, and reported as its own outcome).
    @Sendable func contactsCount(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let session = try await session(request) else { return JSONResponse.make(.unauthorized, ["error": "Unauthorized"]) }
        let (filter, _, _) = try Self.contactFilter(Self.query(request))
        let count = try await ContactRepository(client: database, logger: logger).count(accountID: session.user.accountID, filter: filter)
        return JSONResponse.make(.ok, ["count": .integer(count)])
    }

    /// A CSV file sent as the request body (the page's script sends it so it can show the upload's progress),
    /// with the session's CSRF token in `X-CSRF-Token` and the file's name in `X-Filename`. Answers
    /// `{"location": "/console/imports/:id"}`, the page of its result.
    @Sendable func importNumbers(_ request: Request, context: APIRequestContext) async throws -> Response {
        let (found, refusal) = try await uploadSession(request)
        guard let session = found else { return refusal! }
        let destination = ContactImport.Destination(rawValue: Self.query(request)["destination"] ?? "contacts") ?? .contacts
        let filename = Self.uploadName(request, fallback: "contacts.csv")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("scfm-import-\(UUID().uuidString).csv").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
            let handle = FileHandle(forWritingAtPath: path)
        else { throw APIError.badRequest("the upload could not be stored") }
        var size = 0
        do {
            defer { try? handle.close() }
            for try await buffer in request.body {
                size += buffer.readableBytes
                guard size <= Self.maximumImportSize else {
                    return JSONResponse.make(.contentTooLarge, ["error": .string(text.fileTooLarge)])
                }
                try handle.write(contentsOf: buffer.readableBytesView)
            }
        }
        let errors = LineErrors()
        var summary = ContactImport.Summary()
        var failure: String?
        do {
            summary = try await ContactImport(client: database, logger: logger, destination: destination).run(
                accountID: session.user.accountID, path: path, onError: { errors.append($0) })
        } catch let bad as ContactImport.BadHeader {
            failure = bad.description
        } catch let malformed as CSVReader.MalformedRecord {
            failure = malformed.description
        }
        let id = try await ImportHistory(client: database, logger: logger).record(
            accountID: session.user.accountID, userID: session.user.id, destination: destination, filename: filename, summary: summary,
            errors: errors.all, failure: failure)
        try await audit.record(
            accountID: session.user.accountID, user: session.user, action: "\(destination == .contacts ? "contacts" : "do_not_call").imported",
            subjectType: "import", subjectID: id,
            details: [
                "filename": .string(filename), "created": .integer(Int64(summary.created)), "updated": .integer(Int64(summary.updated)),
                "rejected": .integer(Int64(summary.rejected)),
            ], remoteAddress: context.remoteAddress)
        return JSONResponse.make(.created, ["location": .string("/console/imports/\(id)")])
    }

    @Sendable func importPage(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let session = try await session(request) else { return Self.redirect(to: "/console/sign_in") }
        guard
            let entry = try await ImportHistory(client: database, logger: logger).find(accountID: session.user.accountID, id: try context.recordID())
        else { throw RecordNotFound() }
        var values = importValues(entry)
        values["errors"] = entry.errors.prefix(200).map { ["line": $0.line, "message": $0.message] }
        values["more"] = entry.summary.rejected > 200
        values["hasErrors"] = !entry.errors.isEmpty
        values["back"] = entry.destination == "contacts" ? "/console/contacts" : "/console/do_not_call"
        return page("import", title: text.importTitle, session: session, values: ["import": values])
    }

    /// The refused lines as CSV (line, reason), to fix and upload again.
    @Sendable func importErrors(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let session = try await session(request) else { return Self.redirect(to: "/console/sign_in") }
        guard
            let entry = try await ImportHistory(client: database, logger: logger).find(accountID: session.user.accountID, id: try context.recordID())
        else { throw RecordNotFound() }
        var csv = ResultsExport.csvLine(["line", "error"])
        for error in entry.errors { csv += ResultsExport.csvLine([String(error.line), error.message]) }
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/csv; charset=utf-8", .cacheControl: "no-store",
                .contentDisposition: "attachment; filename=\"import-\(entry.id)-errors.csv\"",
            ], body: ResponseBody(byteBuffer: ByteBuffer(string: csv)))
    }

    /// An upload's session: signed in, its CSRF token in `X-CSRF-Token`, an operator or admin; or the JSON
    /// answer that refuses it (401, 403).
    func uploadSession(_ request: Request) async throws -> (ConsoleSessions.Session?, Response?) {
        guard let session = try await session(request) else { return (nil, JSONResponse.make(.unauthorized, ["error": "Unauthorized"])) }
        guard let given = request.headers[Self.csrfHeader], Self.same(session.csrfToken, given) else {
            return (nil, JSONResponse.make(.forbidden, ["error": .string(text.formExpired)]))
        }
        guard session.user.role.operates else { return (nil, JSONResponse.make(.forbidden, ["error": .string(text.notAllowed)])) }
        return (session, nil)
    }

    static let csrfHeader = HTTPField.Name("X-CSRF-Token")!
    static let filenameHeader = HTTPField.Name("X-Filename")!

    /// The uploaded file's name, as the page sent it (URI-encoded), reduced to printable characters.
    static func uploadName(_ request: Request, fallback: String) -> String {
        let raw = request.headers[filenameHeader].flatMap { $0.removingPercentEncoding } ?? fallback
        let cleaned = String(raw.filter { !$0.isNewline && $0.asciiValue.map { $0 >= 32 } ?? true }.prefix(200))
        return cleaned.isEmpty ? fallback : cleaned
    }

    static func urlEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }
}

/// Refused lines collected while an import runs (its callback is synchronous and Sendable).
final class LineErrors: Sendable {
    private let errors = Mutex<[ContactImport.LineError]>([])

    func append(_ error: ContactImport.LineError) {
        errors.withLock { errors in
            if errors.count < ImportHistory.errorsKept { errors.append(error) }
        }
    }

    var all: [ContactImport.LineError] { errors.withLock { $0 } }
}
