import Foundation
import Logging
import PostgresNIO

/// SCFM's `task:enqueue_calls:run`: a phone call for each remaining participation of the account's running
/// callouts (no call yet, or a latest call in `CALLOUT_PARTICIPATION_RETRY_STATUSES`), queued for the
/// `queue` workers, as many as the limits allow. Set-based: each chunk is one INSERT … SELECT and one outbox
/// statement in a transaction; participations another run is enqueueing at the same time are skipped.
public struct EnqueueCallsTask: Sendable {
    public enum Strategy: String, Sendable, CaseIterable { case optimistic, pessimistic }

    public struct Settings: Sendable {
        /// `ENQUEUE_CALLS_TASK_MAX_CALLS_TO_ENQUEUE`; nil for no maximum.
        public var maxCalls: Int?
        /// `ENQUEUE_CALLS_TASK_ENQUEUE_STRATEGY`: pessimistic subtracts the calls awaiting completion.
        public var strategy: Strategy = .optimistic
        /// `ENQUEUE_CALLS_TASK_PESSIMISTIC_MIN_CALLS_TO_ENQUEUE`.
        public var pessimisticMinimum = 1
        /// `ENQUEUE_CALLS_TASK_MAX_CALLS_PER_PERIOD` over `ENQUEUE_CALLS_TASK_MAX_CALLS_PER_PERIOD_HOURS`.
        public var maxCallsPerPeriod: Int?
        public var periodHours: Double = 24
        /// `ENQUEUE_CALLS_TASK_DEFAULT_SOMLENG_REQUEST_PARAMS`: the new calls' `remote_request_params`.
        public var remoteRequestParams: JSONValue = .emptyObject
        /// `CALLOUT_PARTICIPATION_RETRY_STATUSES`.
        public var retryStatuses = CalloutStatistics.defaultRetryStatuses
        public var chunkSize = 10_000

        public init() {}

        public init(environment: EnvironmentVariables) throws {
            maxCalls = try environment.optionalInteger("ENQUEUE_CALLS_TASK_MAX_CALLS_TO_ENQUEUE", range: 0...Int.max)
            strategy = Strategy(
                rawValue: try environment.oneOf("ENQUEUE_CALLS_TASK_ENQUEUE_STRATEGY", Strategy.allCases.map(\.rawValue), default: "optimistic"))!
            pessimisticMinimum = try environment.integer("ENQUEUE_CALLS_TASK_PESSIMISTIC_MIN_CALLS_TO_ENQUEUE", default: 1, range: 0...Int.max)
            maxCallsPerPeriod = try environment.optionalInteger("ENQUEUE_CALLS_TASK_MAX_CALLS_PER_PERIOD", range: 0...Int.max)
            periodHours = try environment.number("ENQUEUE_CALLS_TASK_MAX_CALLS_PER_PERIOD_HOURS", default: 24, range: 0.001...100_000)
            if let text = environment["ENQUEUE_CALLS_TASK_DEFAULT_SOMLENG_REQUEST_PARAMS"] {
                guard let parsed = try? JSONParser.parse(Array(text.utf8)), parsed.objectValue != nil else {
                    throw EnvironmentVariables.InvalidValue(
                        name: "ENQUEUE_CALLS_TASK_DEFAULT_SOMLENG_REQUEST_PARAMS", value: text, expected: "a JSON object such as {\"from\":\"1234\"}")
                }
                remoteRequestParams = parsed
            }
            if let statuses = try CalloutStatistics.retryStatuses(environment) {
                retryStatuses = statuses
            }
        }
    }

    static let awaitingCompletion: [PhoneCallStatus] = [.queued, .remotelyQueued, .inProgress, .remoteFetchQueued]

    let client: PostgresClient
    let logger: Logger
    let settings: Settings

    public init(client: PostgresClient, logger: Logger, settings: Settings) {
        self.client = client
        self.logger = logger
        self.settings = settings
    }

    /// How many calls this run may enqueue; nil for no limit.
    public func allowance(accountID: Int64) async throws -> Int? {
        var allowance = settings.maxCalls
        if settings.strategy == .pessimistic, let maximum = allowance {
            let awaiting = try await count(
                "SELECT count(*) FROM phone_calls WHERE account_id = \(accountID) AND status = ANY(\(Self.awaitingCompletion.map(\.rawValue)))")
            allowance = max(maximum - awaiting, settings.pessimisticMinimum)
        }
        if let perPeriod = settings.maxCallsPerPeriod {
            let since = Date().addingTimeInterval(-settings.periodHours * 3600)
            let recent = try await count(
                "SELECT count(*) FROM phone_calls WHERE account_id = \(accountID) AND created_at > \(since) AND status <> 'created'")
            allowance = min(allowance ?? Int.max, max(0, perPeriod - recent))
        }
        return allowance
    }

    /// Enqueues up to the allowance; `progress` hears the running total after each chunk. Returns how many.
    public func run(accountID: Int64, progress: @Sendable (Int) -> Void = { _ in }) async throws -> Int {
        try await PhoneCallJobs.inChunks(maximum: try await allowance(accountID: accountID), chunkSize: settings.chunkSize, progress: progress) {
            try await enqueueChunk(accountID: accountID, limit: $0)
        }
    }

    func enqueueChunk(accountID: Int64, limit: Int) async throws -> [Int64] {
        var remaining = try RecordFilter.calloutParticipations(
            ["no_phone_calls_or_last_attempt": .array(settings.retryStatuses.map { .string($0) })], prefix: "CALLOUT_PARTICIPATION_RETRY_STATUSES")
        remaining.append(.predicate("EXISTS (SELECT 1 FROM callouts c WHERE c.id = p.callout_id AND c.status = 'running')"))
        var sql = SQLBuilder(
            """
            WITH picked AS (
                SELECT p.id, p.contact_id, p.callout_id, p.msisdn FROM callout_participations p WHERE p.account_id =
            """)
        sql.bind(accountID)
        remaining.appendConditions(to: &sql)
        sql.append(" ORDER BY p.id LIMIT ")
        sql.bind(limit)
        sql.append(
            """
             FOR UPDATE OF p SKIP LOCKED
            )
            INSERT INTO phone_calls (account_id, callout_participation_id, contact_id, callout_id, msisdn, status, remote_request_params)
            """)
        sql.append(" SELECT ")
        sql.bind(accountID)
        sql.append(", id, contact_id, callout_id, msisdn, 'queued', ")
        sql.bind(settings.remoteRequestParams)
        sql.append(" FROM picked ORDER BY id RETURNING id")
        return try await PhoneCallJobs.queue(sql.query, accountID: accountID, topic: .phoneCallsQueue, client: client, logger: logger)
    }

    func count(_ query: PostgresQuery) async throws -> Int {
        try await client.query(query, logger: logger).single { try $0.decode(Int.self) }
    }
}

/// SCFM's `task:update_calls:run`: the account's calls under way at the provider (`remotely_queued`,
/// `in_progress`) and not created in the last `PHONE_CALL_TIME_CONSIDERED_RECENTLY_CREATED_SECONDS`, at most
/// `UPDATE_CALLS_TASK_MAX_CALLS_TO_FETCH`, move to `remote_fetch_queued` with a job for the `remote-fetch`
/// workers (the `queue_remote_fetch` event, set-based).
public struct UpdateCallsTask: Sendable {
    public struct Settings: Sendable {
        public var maxCalls: Int?
        public var recentlyCreatedSeconds: Double = 60
        public var chunkSize = 10_000

        public init() {}

        public init(environment: EnvironmentVariables) throws {
            maxCalls = try environment.optionalInteger("UPDATE_CALLS_TASK_MAX_CALLS_TO_FETCH", range: 0...Int.max)
            recentlyCreatedSeconds = try environment.number(
                "PHONE_CALL_TIME_CONSIDERED_RECENTLY_CREATED_SECONDS", default: 60, range: 0...100_000_000)
        }
    }

    let client: PostgresClient
    let logger: Logger
    let settings: Settings

    public init(client: PostgresClient, logger: Logger, settings: Settings) {
        self.client = client
        self.logger = logger
        self.settings = settings
    }

    public func run(accountID: Int64, progress: @Sendable (Int) -> Void = { _ in }) async throws -> Int {
        let event = PhoneCallEvent.queueRemoteFetch
        let before = Date().addingTimeInterval(-settings.recentlyCreatedSeconds)
        return try await PhoneCallJobs.inChunks(maximum: settings.maxCalls, chunkSize: settings.chunkSize, progress: progress) { limit in
            try await PhoneCallJobs.queue(
                """
                UPDATE phone_calls SET status = \(event.to.rawValue), updated_at = now()
                WHERE id IN (
                    SELECT id FROM phone_calls
                    WHERE account_id = \(accountID) AND status = ANY(\(event.from.map(\.rawValue))) AND created_at < \(before)
                    ORDER BY id LIMIT \(limit) FOR UPDATE SKIP LOCKED
                )
                RETURNING id
                """, accountID: accountID, topic: event.topic, client: client, logger: logger)
        }
    }
}

/// What both call tasks do with the calls they select: a worker job each, written with the change.
enum PhoneCallJobs {
    /// Runs `query`, which changes phone calls and returns their ids, and writes a job per call to `topic`, in
    /// one transaction. Returns the ids.
    static func queue(
        _ query: PostgresQuery, accountID: Int64, topic: Topic, client: PostgresClient, logger: Logger
    ) async throws -> [Int64] {
        try await client.transaction(logger: logger) { connection in
            let ids = try await connection.query(query, logger: logger).collect { try $0.decode(Int64.self) }
            try await Outbox.enqueue(
                ids.map { PhoneCallJob(phoneCallID: $0, accountID: accountID).outboxEntry(topic: topic) }, on: connection, logger: logger)
            return ids
        }
    }

    /// Runs `chunk` with a limit of at most `chunkSize` until it returns fewer ids than asked or `maximum` (nil:
    /// none) is reached; `progress` hears the running total. Returns the total.
    static func inChunks(
        maximum: Int?, chunkSize: Int, progress: @Sendable (Int) -> Void, _ chunk: (Int) async throws -> [Int64]
    ) async throws -> Int {
        var total = 0
        while maximum.map({ total < $0 }) ?? true {
            let limit = min(chunkSize, (maximum ?? Int.max) - total)
            let ids = try await chunk(limit)
            total += ids.count
            if !ids.isEmpty { progress(total) }
            if ids.count < limit { break }
        }
        return total
    }
}
