import Logging
import PostgresNIO
import Shared

/// Accounts and running callouts for autopilot tests and the autopilot benchmark, written straight to the
/// database (what the API and a CalloutPopulation would produce).
public struct AutopilotSeed: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// An account of its own Twilio sid dialling at `rate` calls per second, with `autopilot` as its
    /// `settings.autopilot` (e.g. `["enabled": true]`), and `extra` settings beside it.
    public func createAccount(rate: Double, autopilot: JSONObject, extra: JSONObject = [:]) async throws -> Int64 {
        var settings: JSONObject = ["max_calls_per_second": .number(rate), "autopilot": .object(autopilot)]
        for (key, value) in extra { settings[key] = value }
        let sid = "AC\(UInt64.random(in: 0...UInt64.max))"
        return try await client.query(
            """
            INSERT INTO accounts (settings, platform_provider_name, twilio_account_sid, twilio_auth_token)
            VALUES (\(JSONValue.object(settings)), 'twilio', \(sid), 'secret') RETURNING id
            """, logger: logger
        ).single { try $0.decode(Int64.self) }
    }

    /// A callout in `status` with `count` contacts (numbers from `firstNumber` on, `contactMetadata` each)
    /// and a participation for each; `settings` is the callout's own settings. Returns the callout id.
    public func createCallout(
        accountID: Int64, participants count: Int, status: String = "running", settings: JSONValue = .emptyObject,
        firstNumber: Int64 = 85_510_000_000, contactMetadata: JSONValue = .emptyObject
    ) async throws -> Int64 {
        try await client.query(
            """
            WITH callout AS (
                INSERT INTO callouts (account_id, status, call_flow_logic, settings)
                VALUES (\(accountID), \(status), 'CallFlowLogic::HelloWorld', \(settings)) RETURNING id
            ), contacts AS (
                INSERT INTO contacts (account_id, msisdn, metadata)
                SELECT \(accountID), '+' || (\(firstNumber) + n)::text, \(contactMetadata) FROM generate_series(1, \(count)) n
                RETURNING id, msisdn
            ), participations AS (
                INSERT INTO callout_participations (account_id, callout_id, contact_id, msisdn)
                SELECT \(accountID), callout.id, contacts.id, contacts.msisdn FROM callout, contacts
            )
            SELECT id FROM callout
            """, logger: logger
        ).single { try $0.decode(Int64.self) }
    }

    /// The callout's participations by outcome (`pending` for none yet).
    public func outcomes(calloutID: Int64) async throws -> [String: Int] {
        let rows = try await client.query(
            "SELECT coalesce(outcome, 'pending'), count(*)::int8 FROM callout_participations WHERE callout_id = \(calloutID) GROUP BY 1",
            logger: logger)
        var counts: [String: Int] = [:]
        for try await (outcome, count) in rows.decode((String, Int64).self) { counts[outcome] = Int(count) }
        return counts
    }

    /// Whether the autopilot marked the callout finished.
    public func isFinished(calloutID: Int64) async throws -> Bool {
        try await client.query("SELECT autopilot_finished_at IS NOT NULL FROM callouts WHERE id = \(calloutID)", logger: logger)
            .single { try $0.decode(Bool.self) }
    }
}
