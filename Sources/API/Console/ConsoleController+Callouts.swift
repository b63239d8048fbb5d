import Console
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Shared

/// The console's callouts: the list (each running one stoppable in one click), composing a broadcast (an
/// uploaded recording or a text, an audience of contact filters with its live count, the autopilot's
/// policy), the live monitor pushed as server-sent events, and the results as CSV.
///
/// Invariants: every read and change is scoped to the session's account before it reads; composing writes
/// the callout and queues its population (the REST API's CalloutPopulation, executed by the population
/// role) and records `callout.created`; the monitor's tick reads `CalloutMonitor`'s snapshot, whose cost does
/// not grow with the campaign.
extension ConsoleController {
    @Sendable func calloutsPage(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let session = try await session(request) else { return Self.redirect(to: "/console/sign_in") }
        let rows = try await database.query(
            """
            SELECT c.id, coalesce(c.metadata ->> 'name', 'Callout ' || c.id), c.status, c.created_at,
                   coalesce((SELECT sum(d.delta) FROM callout_statistic_deltas d
                             WHERE d.callout_id = c.id AND d.metric = 'participations'), 0)::bigint
            FROM callouts c WHERE c.account_id = \(session.user.accountID) ORDER BY c.id DESC LIMIT 100
            """, logger: logger)
        var callouts: [[String: Any]] = []
        for try await (id, name, status, createdAt, participations) in rows.decode((Int64, String, String, Date, Int64).self) {
            callouts.append([
                "id": id, "name": name, "status": status, "at": Timestamp.iso8601(createdAt), "participations": participations,
                "stoppable": session.user.role.operates && (status == "running" || status == "paused"), "csrf": session.csrfToken,
            ])
        }
        return page(
            "callouts", title: text.calloutsTitle, session: session,
            values: ["callouts": callouts, "canCompose": session.user.role.operates])
    }

    @Sendable func composePage(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let session = try await session(request) else { return Self.redirect(to: "/console/sign_in") }
        guard session.user.role.operates else { return notAllowedPage(session) }
        let settings = try await database.query(
            "SELECT settings FROM accounts WHERE id = \(session.user.accountID)", logger: logger
        ).single { try $0.decode(JSONValue.self) }
        var values = try await composeValues(session)
        values["from"] = settings["autopilot"]?["remote_request_params"]?["from"]?.scalarText ?? ""
        return page("compose", title: text.composeTitle, session: session, values: values)
    }

    static let voices = [["value": "woman"], ["value": "man"], ["value": "alice"]]
    static let languages = [
        ["value": "en-US"], ["value": "en-GB"], ["value": "km-KH"], ["value": "fr-FR"], ["value": "es-ES"], ["value": "sw-KE"],
    ]

    /// Creates the callout (PlayMessage with the recording or the text), its autopilot policy, and its
    /// population from the audience's filters, queued at once; then shows the callout.
    @Sendable func createCallout(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let session = try await session(request) else { return Self.redirect(to: "/console/sign_in") }
        let form = try await Self.form(request)
        guard let given = form["csrf_token"], Self.same(session.csrfToken, given) else { return forbiddenPage() }
        guard session.user.role.operates else { return notAllowedPage(session) }
        let account = session.user.accountID
        var problems: [String] = []
        let name = (form["name"] ?? "").trimmingCharacters(in: .whitespaces)
        if name.isEmpty || name.count > 200 { problems.append(text.nameRequired) }
        var metadata: JSONObject = ["name": .string(name)]
        if form["message_kind"] == "audio" {
            if let token = form["audio_token"], !token.isEmpty,
                let file = try await AudioFiles(client: database, logger: logger).find(accountID: account, token: token)
            {
                metadata["audio_url"] = .string((publicBaseURL ?? "") + file.path)
            } else {
                problems.append(text.recordingRequired)
            }
        } else {
            let message = (form["message"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            if message.isEmpty || message.count > 4000 { problems.append(text.messageRequired) }
            metadata["message"] = .string(message)
            if let voice = form["voice"], Self.voices.contains(where: { $0["value"] == voice }) { metadata["voice"] = .string(voice) }
            if let language = form["language"], Self.languages.contains(where: { $0["value"] == language }) {
                metadata["language"] = .string(language)
            }
        }
        // The audience's fields, as a population's contact_filter_params (the msisdn field is not on this form).
        let (filter, _, audience) = try Self.contactFilter(form)
        var filterParameters: JSONObject = [:]
        filterParameters["metadata"] = audience["metadata"]
        let from = (form["from"] ?? "").trimmingCharacters(in: .whitespaces)
        if from.isEmpty || from.count > 32 { problems.append(text.callerIDRequired) }
        let attempts = Int(form["max_attempts"] ?? "") ?? 3
        let retryMinutes = Int(form["retry_minutes"] ?? "") ?? 15
        let expiresHours = Int(form["expires_hours"] ?? "") ?? 24
        if !(1...10).contains(attempts) || !(1...1440).contains(retryMinutes) || !(1...720).contains(expiresHours) {
            problems.append(text.policyOutOfRange)
        }
        var autopilot: JSONObject = [
            "enabled": true, "urgent": .bool(form["urgent"] == "yes"),
            "retry": ["max_attempts": .integer(Int64(attempts)), "delays": [.string("\(retryMinutes)m")]],
            "expires_at": .string(Timestamp.iso8601(Date().addingTimeInterval(Double(expiresHours) * 3600))),
            "remote_request_params": ["from": .string(from)],
        ]
        if let start = form["hours_start"], let end = form["hours_end"], !start.isEmpty, !end.isEmpty {
            autopilot["calling_hours"] = ["start": .string(start), "end": .string(end)]
        }
        let settings: JSONValue = ["autopilot": .object(autopilot)]
        do {
            try AutopilotPolicy.validate(settings: settings)
        } catch {
            problems.append(text.policyOutOfRange)
        }
        let recipients = try await ContactRepository(client: database, logger: logger).count(accountID: account, filter: filter)
        if recipients == 0 { problems.append(text.noRecipients) }
        guard problems.isEmpty else {
            var values = try await composeValues(session)
            values["problems"] = problems.map { ["text": $0] }
            values["hasProblems"] = true
            values["form"] = form
            return page("compose", title: text.composeTitle, session: session, values: values, status: .unprocessableContent)
        }
        var changes = CalloutChanges()
        changes.callFlowLogic = .some(PlayMessageCallFlow.name)
        changes.metadata = .object(metadata)
        changes.settings = settings
        let callout = try await CalloutRepository(client: database, logger: logger).create(accountID: account, changes)
        var population = BatchOperationChanges()
        population.type = BatchOperationType.calloutPopulation.rawValue
        population.parameters = ["contact_filter_params": .object(filterParameters)]
        let operations = BatchOperationRepository(client: database, logger: logger)
        let operation = try await operations.create(accountID: account, calloutID: callout.id, population)
        _ = try await operations.apply(.queue, accountID: account, id: operation.id)
        try await audit.record(
            accountID: account, user: session.user, action: "callout.created", subjectType: "callout", subjectID: callout.id,
            details: ["name": .string(name), "recipients": .integer(recipients), "audience": .object(filterParameters)],
            remoteAddress: context.remoteAddress)
        return Self.redirect(to: "/console/callouts/\(callout.id)")
    }

    func composeValues(_ session: ConsoleSessions.Session) async throws -> [String: Any] {
        let recordings = try await AudioFiles(client: database, logger: logger).recent(accountID: session.user.accountID).map {
            ["token": $0.token, "filename": $0.filename, "path": $0.path]
        }
        return ["csrf": session.csrfToken, "recordings": recordings, "voices": Self.voices, "languages": Self.languages]
    }

    /// A recording sent as the request body (`X-CSRF-Token`, `X-Filename`): kept if it is an MP3 or WAV of at
    /// most 10 MB; answers its token and the address the page's player (and the provider) reads.
    @Sendable func uploadAudio(_ request: Request, context: APIRequestContext) async throws -> Response {
        let (found, refusal) = try await uploadSession(request)
        guard let session = found else { return refusal! }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: AudioFiles.maximumSize)
        } catch {
            return JSONResponse.make(.contentTooLarge, ["error": .string(text.fileTooLarge)])
        }
        do {
            let file = try await AudioFiles(client: database, logger: logger).store(
                accountID: session.user.accountID, userID: session.user.id, filename: Self.uploadName(request, fallback: "message"),
                content: body)
            try await audit.record(
                accountID: session.user.accountID, user: session.user, action: "recording.uploaded", subjectType: "recording",
                subjectID: file.id, details: ["filename": .string(file.filename)], remoteAddress: context.remoteAddress)
            return JSONResponse.make(
                .created, ["token": .string(file.token), "path": .string(file.path), "filename": .string(file.filename)])
        } catch let refused as AudioFiles.Refused {
            return JSONResponse.make(.unprocessableContent, ["error": .string(refused.description)])
        }
    }

    /// `GET /console/audio/:token`: a recording for the provider (and the page's player), found by its random token.
    @Sendable func audio(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let token = context.parameters.get("token"),
            let (type, content) = try await AudioFiles(client: database, logger: logger).content(token: token)
        else { throw RecordNotFound() }
        return Response(
            status: .ok, headers: [.contentType: type, .cacheControl: "public, max-age=86400, immutable"],
            body: ResponseBody(byteBuffer: content))
    }

    /// The live monitor: a server-sent event a second (`CalloutMonitor`'s snapshot as JSON) for a minute, then
    /// the stream ends and the browser's EventSource reconnects (so a stream never outlives a sign-out or a
    /// shutdown by more than a minute).
    @Sendable func monitor(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let session = try await session(request) else { return Self.redirect(to: "/console/sign_in") }
        let account = session.user.accountID
        let id = try context.recordID()
        let monitor = CalloutMonitor(client: database, logger: logger)
        let first = try await monitor.snapshot(accountID: account, calloutID: id)
        let interval = monitorInterval
        // The body is written after this handler returns: the request's language goes with it.
        let text = self.text
        // `?once`: the first snapshot only (for scripts and tests that read one figure).
        let once = request.uri.queryParameters["once"] != nil
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-store", HTTPField.Name("X-Accel-Buffering")!: "no"],
            body: ResponseBody { [self] writer in
                var snapshot = first
                let ends = ContinuousClock.now + .seconds(60)
                try await writer.write(ByteBuffer(string: "retry: 1000\n\n"))
                while true {
                    let event = "data: " + JSONSerializer.string(monitorJSON(snapshot, text: text)) + "\n\n"
                    try await writer.write(ByteBuffer(string: event))
                    guard !once, ContinuousClock.now < ends, !Task.isCancelled else { break }
                    try await Task.sleep(for: interval)
                    snapshot = try await monitor.snapshot(accountID: account, calloutID: id)
                }
                try await writer.finish(nil)
            })
    }

    func monitorJSON(_ snapshot: CalloutMonitor.Snapshot, text: ConsoleText) -> JSONValue {
        var json = snapshot.progress.json.objectValue ?? [:]
        json["retrying"] = .integer(snapshot.retrying)
        json["waiting"] = .integer(snapshot.waiting)
        json["reason"] = snapshot.reason.map { .string($0.rawValue) } ?? .null
        json["reason_text"] = snapshot.reason.map { .string(text.reason($0, nextRetryAt: snapshot.nextRetryAt)) } ?? .null
        json["percent"] = .integer(snapshot.percent)
        json["calls"] = .array(
            snapshot.calls.map { call in
                ["id": .integer(call.id), "msisdn": .string(call.msisdn), "status": .string(call.status), "updated_at": .timestamp(call.updatedAt)]
            })
        return .object(json)
    }

    /// The callout's results, a line per participation (`ResultsExport`, the `export-results` task's data),
    /// streamed in chunks.
    @Sendable func results(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let session = try await session(request) else { return Self.redirect(to: "/console/sign_in") }
        let account = session.user.accountID
        let callout = try await CalloutRepository(client: database, logger: logger).find(accountID: account, id: try context.recordID())
        let export = ResultsExport(client: database, logger: logger)
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/csv; charset=utf-8", .cacheControl: "no-store",
                .contentDisposition: "attachment; filename=\"callout-\(callout.id)-results.csv\"",
            ],
            body: ResponseBody { writer in
                _ = try await export.run(accountID: account, calloutID: callout.id) { chunk in
                    try await writer.write(ByteBuffer(string: chunk))
                }
                try await writer.finish(nil)
            })
    }

    func notAllowedPage(_ session: ConsoleSessions.Session) -> Response {
        page("message", title: text.notAllowed, session: session, values: ["message": text.notAllowed], status: .forbidden)
    }
}
