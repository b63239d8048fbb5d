import Foundation
import Logging
import PostgresNIO

/// What became of a provider's request.
public enum ProviderCallbackResult: Sendable {
    /// Stored as a remote phone call event; `twiml` is what the call's flow answers.
    case recorded(eventID: Int64, phoneCallID: Int64, twiml: TwiML)
    /// No account the request could be from, or a signature that does not match its auth token.
    case forbidden
    /// Genuine, but about an outbound call this system does not know.
    case unknownCall
    /// The URL names a phone call with a token that is not that call's (`CallbackTokens`).
    case wrongToken
    /// The URL's call was never dialled, or the callback's CallSid is another call's.
    case notThisCall(String)
}

/// Authenticates a provider's request about a call and stores it: the remote phone call event, and (in the
/// same transaction, through the outbox) the status it reports as a `phone-call-events` message, which the
/// `status` workers apply exactly like the dial's answer and the remote fetches. An inbound call the system
/// has not seen creates its contact (by `From`) and phone call first.
///
/// Which call: the `phone_call_id` the dialler put in the callback URLs (signed with the rest, and known before
/// the dial's answer is recorded) when its `token` is that call's (`CallbackTokens`: a wrong token is 403 and
/// nothing is stored), else the `CallSid`. A URL's call is only the callback's call if it was dialled and its
/// `remote_call_id`, once known, is the callback's CallSid (404 otherwise): the provider signs the requests
/// of every tenant's call flow with the same platform token, so the signature alone binds nothing to a call. Which account: that call's, or for a new inbound call the
/// account whose `twilio_account_sid`/`somleng_account_sid` is the `AccountSid` (the oldest account without
/// credentials of its own when it is the platform's default account).
public struct ProviderCallbackRecorder: Sendable {
    let client: PostgresClient
    let logger: Logger
    let registry: CallFlowLogicRegistry
    let defaults: ProviderDefaults
    /// Callbacks about known calls that arrive together are written together: a campaign brings one to
    /// three per dialled call, and one statement per batch instead of one per callback is what lets the
    /// database keep up with the dial rate.
    let writes: MicroBatcher<EventRecord, Int64>
    /// Nil: a URL's `phone_call_id` is not trusted and the CallSid alone finds the call.
    let tokens: CallbackTokens?
    /// Opens the accounts' sealed auth tokens that signatures are checked with (`SECRETS_KEY`).
    let secrets: SecretBox?

    public init(
        client: PostgresClient, logger: Logger, registry: CallFlowLogicRegistry, defaults: ProviderDefaults,
        tokens: CallbackTokens?, secrets: SecretBox? = nil, maximumBatch: Int = 200, linger: Duration = .milliseconds(2)
    ) {
        self.tokens = tokens
        self.secrets = secrets
        self.client = client
        self.logger = logger
        self.registry = registry
        self.defaults = defaults
        writes = MicroBatcher(maximumBatch: maximumBatch, linger: linger) { records in
            try await Self.write(records, on: client, logger: logger)
        }
    }

    /// One remote phone call event to store, with the status event it carries.
    public struct EventRecord: Sendable {
        public var callback: ProviderCallback
        public var accountID: Int64
        public var phoneCallID: Int64
        public var flowName: String
        public var statusEvent: PhoneCallStatusEvent?

        public init(callback: ProviderCallback, accountID: Int64, phoneCallID: Int64, flowName: String, statusEvent: PhoneCallStatusEvent?) {
            self.callback = callback
            self.accountID = accountID
            self.phoneCallID = phoneCallID
            self.flowName = flowName
            self.statusEvent = statusEvent
        }
    }

    /// Writes records with one statement; returns their event ids in order.
    public static func write(_ records: [EventRecord], on client: PostgresClient, logger: Logger) async throws -> [Int64] {
        try await client.query(recordEvents(records), logger: logger).collect { try $0.decode(Int64.self) }
    }

    /// `url` is the URL the provider requested, as it signed it (public base URL, path and query).
    /// `phoneCallID` and `token`: the URL's `phone_call_id` and `token` query parameters.
    public func record(
        _ callback: ProviderCallback, signature: String?, url: String, phoneCallID: Int64?, token: String? = nil, at time: Date = Date()
    ) async throws -> ProviderCallbackResult {
        guard let accountSID = callback.accountSID else { return .forbidden }
        // The URL's call counts only with its token; without one (a call dialled before tokens, or a URL made by
        // anyone else) the CallSid alone finds the call.
        var boundID: Int64?
        if let phoneCallID, let token, let tokens {
            guard tokens.isValid(token, phoneCallID: phoneCallID) else { return .wrongToken }
            boundID = phoneCallID
        }
        let known = try await findCall(callSID: callback.callSID, phoneCallID: boundID)
        if let boundID, let known {
            if known.phoneCallID != boundID {
                return .notThisCall("CallSid \(callback.callSID ?? "") is another phone call's, not phone call \(boundID)'s")
            }
            if let remoteCallID = known.remoteCallID, remoteCallID != callback.callSID {
                return .notThisCall("phone call \(boundID) was dialled as \(remoteCallID), not \(callback.callSID ?? "")")
            }
            if known.status == PhoneCallStatus.created.rawValue {
                return .notThisCall("phone call \(boundID) was never dialled")
            }
        }
        let target: CallbackTarget
        if let known {
            target = known
        } else if let account = try await findAccount(providerAccountSID: accountSID) {
            target = account
        } else {
            return .forbidden
        }
        guard let token = defaults.authToken(forProviderAccountSID: accountSID, of: target.credentials),
            TwilioSignature.isValid(signature: signature, url: url, parameters: callback.parameters, authToken: token)
        else { return .forbidden }
        try callback.validate()
        if known == nil, !callback.isInbound { return .unknownCall }
        if known == nil, MSISDN(callback["From"] ?? "") == nil { throw ValidationErrors("From", "is invalid") }

        let flowName = registry.resolve(target.callFlowLogicCandidates)
        let status = callback.callStatus.flatMap(RemoteCallStatus.phoneCallStatus(for:))
        let statusEvent = { (callID: Int64) in
            status.map { PhoneCallStatusEvent.reported(phoneCallID: callID, accountID: target.accountID, status: $0, callback: callback, at: time) }
        }
        let eventID: Int64
        let callID: Int64
        let record = { (callID: Int64) in
            EventRecord(callback: callback, accountID: target.accountID, phoneCallID: callID, flowName: flowName, statusEvent: statusEvent(callID))
        }
        if let knownID = known?.phoneCallID {
            // The common case, a callback about a dialled call: batched with the others arriving now.
            callID = knownID
            eventID = try await writes.submit(record(callID))
        } else {
            (eventID, callID) = try await client.transaction(logger: logger) { connection in
                let callID = try await createInboundCall(callback, accountID: target.accountID, status: status, on: connection)
                let eventID = try await connection.query(Self.recordEvents([record(callID)]), logger: logger).single { try $0.decode(Int64.self) }
                return (eventID, callID)
            }
        }
        let request = CallFlowRequest(
            parameters: callback.details, phoneCallMetadata: target.phoneCallMetadata, calloutMetadata: target.calloutMetadata)
        return .recorded(eventID: eventID, phoneCallID: callID, twiml: registry.flow(named: flowName).response(to: request))
    }

    // MARK: - Finding the call and its account

    /// The call the request is about, with its account's credentials and what its flow needs.
    struct CallbackTarget {
        var accountID: Int64
        var phoneCallID: Int64?
        var credentials: ProviderCredentials
        var callFlowLogicCandidates: [String?]
        var phoneCallMetadata: JSONValue = [:]
        var calloutMetadata: JSONValue = [:]
        var remoteCallID: String?
        var status: String?
    }

    func findCall(callSID: String?, phoneCallID: Int64?) async throws -> CallbackTarget? {
        guard callSID != nil || phoneCallID != nil else { return nil }
        let rows = try await client.query(Self.findCall(callSID: callSID, phoneCallID: phoneCallID), logger: logger)
        for try await row in rows {
            let (id, accountID, callMetadata, calloutMetadata, callFlow, participationFlow, calloutFlow, accountFlow) =
                try row.decode((Int64, Int64, JSONValue, JSONValue, String?, String?, String?, String?).self)
            let columns = row.makeRandomAccess()
            return CallbackTarget(
                accountID: accountID, phoneCallID: id, credentials: try ProviderCredentials(row: row, offset: 8, secrets: secrets),
                callFlowLogicCandidates: [callFlow, participationFlow, calloutFlow, accountFlow],
                phoneCallMetadata: callMetadata, calloutMetadata: calloutMetadata,
                remoteCallID: try columns[12].decode(String?.self), status: try columns[13].decode(String.self))
        }
        return nil
    }

    func findAccount(providerAccountSID sid: String) async throws -> CallbackTarget? {
        let isPlatformDefault = sid == defaults.twilioAccountSID || sid == defaults.somlengAccountSID
        let rows = try await client.query(
            """
            SELECT id, settings->>'call_flow_logic', twilio_account_sid, twilio_auth_token, somleng_account_sid, somleng_auth_token
            FROM accounts
            WHERE twilio_account_sid = \(sid) OR somleng_account_sid = \(sid)
               OR (\(isPlatformDefault) AND twilio_account_sid IS NULL AND somleng_account_sid IS NULL)
            ORDER BY (twilio_account_sid IS NOT DISTINCT FROM \(sid) OR somleng_account_sid IS NOT DISTINCT FROM \(sid)) DESC, id
            LIMIT 1
            """, logger: logger)
        for try await row in rows {
            let columns = row.makeRandomAccess()
            let id = try columns[0].decode(Int64.self)
            let accountFlow = try columns[1].decode(String?.self)
            return CallbackTarget(
                accountID: id, phoneCallID: nil, credentials: try ProviderCredentials(row: row, offset: 2, secrets: secrets),
                callFlowLogicCandidates: [accountFlow])
        }
        return nil
    }

    // MARK: - Writing

    func createInboundCall(
        _ callback: ProviderCallback, accountID: Int64, status: PhoneCallStatus?, on connection: PostgresConnection
    ) async throws -> Int64 {
        let msisdn = MSISDN(callback["From"] ?? "")!.e164
        // A new inbound call is in progress: it is never `created`, so no batch operation queues it for dialling.
        let initialStatus = (status ?? .inProgress).rawValue
        let rows = try await connection.query(
            """
            WITH contact AS (
                INSERT INTO contacts (account_id, msisdn) VALUES (\(accountID), \(msisdn))
                ON CONFLICT (account_id, msisdn) DO UPDATE SET msisdn = excluded.msisdn
                RETURNING id
            ),
            created AS (
                INSERT INTO phone_calls (account_id, contact_id, msisdn, status, remote_call_id, remote_status, remote_direction)
                SELECT \(accountID), contact.id, \(msisdn), \(initialStatus), \(callback.callSID), \(callback.callStatus), \(callback.direction)
                FROM contact
                ON CONFLICT (remote_call_id) WHERE remote_call_id IS NOT NULL DO NOTHING
                RETURNING id
            )
            SELECT id FROM created
            """, logger: logger)
        for try await id in rows.decode(Int64.self) { return id }
        // A callback of the same call that raced this one created it first; a new statement sees its commit.
        let existing = try await connection.query(
            "SELECT id FROM phone_calls WHERE remote_call_id = \(callback.callSID)", logger: logger)
        for try await id in existing.decode(Int64.self) { return id }
        throw RecordNotFound()
    }

    // MARK: - Statements (public for the benchmark's raw-SQL floor)

    /// The call of a callback, with its account's credentials and its flow's candidates. The CallSid wins over
    /// the URL's id when both match calls (a URL reused for another call).
    public static func findCall(callSID: String?, phoneCallID: Int64?) -> PostgresQuery {
        """
        SELECT p.id, p.account_id, p.metadata, coalesce(c.metadata, '{}'::jsonb),
               p.call_flow_logic, cp.call_flow_logic, c.call_flow_logic, a.settings->>'call_flow_logic',
               a.twilio_account_sid, a.twilio_auth_token, a.somleng_account_sid, a.somleng_auth_token,
               p.remote_call_id, p.status
        FROM phone_calls p
        JOIN accounts a ON a.id = p.account_id
        LEFT JOIN callout_participations cp ON cp.id = p.callout_participation_id
        LEFT JOIN callouts c ON c.id = p.callout_id
        WHERE p.remote_call_id = \(callSID) OR p.id = \(phoneCallID)
        ORDER BY p.remote_call_id IS NOT DISTINCT FROM \(callSID) DESC
        LIMIT 1
        """
    }

    /// The remote phone call events and, for those that report a status, their `phone-call-events` messages
    /// in the outbox: one statement for the batch, so one round trip and one commit. Returns the events' ids
    /// in the records' order.
    public static func recordEvents(_ records: [EventRecord]) -> PostgresQuery {
        let rows = JSONValue.array(
            records.enumerated().map { index, record in
                [
                    "ordinal": .integer(Int64(index)), "account_id": .integer(record.accountID), "phone_call_id": .integer(record.phoneCallID),
                    "details": .object(record.callback.details), "remote_call_id": .string(record.callback.callSID ?? ""),
                    "remote_direction": .string(record.callback.direction), "call_flow_logic": .string(record.flowName),
                    "status_event": record.statusEvent?.payload ?? .null,
                ]
            })
        // Ids come from the sequence in insertion order, which the ORDER BY makes the records' order.
        return """
            WITH input AS (
                SELECT * FROM jsonb_to_recordset(\(rows)::jsonb)
                    AS r(ordinal integer, account_id bigint, phone_call_id bigint, details jsonb, remote_call_id text,
                         remote_direction text, call_flow_logic text, status_event jsonb)
            ),
            events AS (
                INSERT INTO remote_phone_call_events (account_id, phone_call_id, details, remote_call_id, remote_direction, call_flow_logic)
                SELECT account_id, phone_call_id, details, remote_call_id, remote_direction, call_flow_logic FROM input ORDER BY ordinal
                RETURNING id
            ),
            status_events AS (
                INSERT INTO outbox_messages (topic, message_key, payload)
                SELECT \(Topic.phoneCallEvents.rawValue), phone_call_id::text, status_event
                FROM input WHERE status_event IS NOT NULL AND status_event <> 'null'::jsonb ORDER BY ordinal
            )
            SELECT id FROM events ORDER BY id
            """
    }
}
