import FakeProvider
import Foundation
import Logging
import PostgresNIO
import Shared
import TestSupport
import Testing

/// Status events applied by `PhoneCallStatusUpdates`: in any order, any number of times, the call ends where
/// its furthest, newest event says, and keeps what the dial answer reported.
@Suite(.timeLimit(.minutes(10))) struct StatusUpdatesTests {
    let logger = Logger(label: "scfm.tests.status")

    func seedCall(_ database: PostgresClient, status: String = "queued") async throws -> (call: Int64, account: Int64) {
        let account = try await AccountRepository(client: database, logger: logger).create(AccountChanges())
        let id = try await database.query(
            """
            WITH contact AS (INSERT INTO contacts (account_id, msisdn) VALUES (\(account.id), '+85510' || (random() * 1e8)::int8::text) RETURNING id, msisdn)
            INSERT INTO phone_calls (account_id, contact_id, msisdn, status) SELECT \(account.id), id, msisdn, \(status) FROM contact RETURNING id
            """, logger: logger
        ).single { try $0.decode(Int64.self) }
        return (id, account.id)
    }

    func call(_ database: PostgresClient, _ id: Int64) async throws -> PhoneCall {
        try await PhoneCallRepository(client: database, logger: logger).find(accountID: try await accountOf(database, id), id: id)
    }

    func accountOf(_ database: PostgresClient, _ id: Int64) async throws -> Int64 {
        try await database.query("SELECT account_id FROM phone_calls WHERE id = \(id)", logger: logger).single { try $0.decode(Int64.self) }
    }

    func providerCall(sid: String, status: String) -> ProviderCall {
        ProviderCall(json: ["sid": .string(sid), "status": .string(status), "direction": "outbound-api", "to": "+85510"])!
    }

    @Test func eventsOutOfOrderEndAtTheFurthestAndKeepTheDialAnswer() async throws {
        let database = try await TestDatabases.shared.client(suite: "statusupdates")
        let updates = PhoneCallStatusUpdates(client: database, logger: logger)
        let (id, account) = try await seedCall(database)
        let start = Date()
        let queued = PhoneCallStatusEvent.remotelyQueued(
            phoneCallID: id, accountID: account, call: providerCall(sid: "CA1", status: "queued"), at: start)
        let ringing = PhoneCallStatusEvent.fetched(
            phoneCallID: id, accountID: account, call: providerCall(sid: "CA1", status: "ringing"), at: start + 1)
        let completed = PhoneCallStatusEvent.fetched(
            phoneCallID: id, accountID: account, call: providerCall(sid: "CA1", status: "completed"), at: start + 2)

        // Newest first, each in its own batch.
        #expect(try await updates.apply([completed]) == 1)
        #expect(try await updates.apply([ringing]) == 0)
        #expect(try await updates.apply([queued]) == 1)  // only the dial answer is recorded
        let phoneCall = try await call(database, id)
        #expect(phoneCall.status == "completed")
        #expect(phoneCall.remoteStatus == "completed")
        #expect(phoneCall.remoteCallID == "CA1")
        #expect(phoneCall.remoteQueueResponse["status"] == "queued")
        #expect(phoneCall.remoteResponse["status"] == "completed")
        #expect(phoneCall.remotelyQueuedAt != nil)

        // Everything again, in one batch, twice: nothing changes.
        #expect(try await updates.apply([ringing, queued, completed, completed]) == 0)
        #expect(try await call(database, id).status == "completed")
    }

    @Test func aBatchFoldsSeveralEventsOfOneCall() async throws {
        let database = try await TestDatabases.shared.client(suite: "statusupdates")
        let updates = PhoneCallStatusUpdates(client: database, logger: logger)
        let (id, account) = try await seedCall(database)
        let start = Date()
        let events = [
            PhoneCallStatusEvent.fetched(phoneCallID: id, accountID: account, call: providerCall(sid: "CA2", status: "in-progress"), at: start + 1),
            PhoneCallStatusEvent.remotelyQueued(phoneCallID: id, accountID: account, call: providerCall(sid: "CA2", status: "queued"), at: start),
        ]
        #expect(try await updates.apply(events) == 1)
        let phoneCall = try await call(database, id)
        #expect(phoneCall.status == "in_progress")
        #expect(phoneCall.remoteCallID == "CA2")
        #expect(phoneCall.remoteQueueResponse["status"] == "queued")
    }

    @Test func sameRankAppliesOnlyWhenNewerAndFinalNeverChanges() async throws {
        let database = try await TestDatabases.shared.client(suite: "statusupdates")
        let updates = PhoneCallStatusUpdates(client: database, logger: logger)
        let (id, account) = try await seedCall(database, status: "remote_fetch_queued")
        let start = Date()
        let older = PhoneCallStatusEvent.fetched(phoneCallID: id, accountID: account, call: providerCall(sid: "CA3", status: "queued"), at: start)
        let newer = PhoneCallStatusEvent.fetched(phoneCallID: id, accountID: account, call: providerCall(sid: "CA3", status: "queued"), at: start + 1)
        #expect(try await updates.apply([newer]) == 1)
        #expect(try await call(database, id).status == "remotely_queued")  // a fetch that found it still queued
        #expect(try await updates.apply([older]) == 0)

        let errored = PhoneCallStatusEvent.errored(phoneCallID: id, accountID: account, message: "Unable to create record: x", at: start + 2)
        let failed = PhoneCallStatusEvent.fetched(
            phoneCallID: id, accountID: account, call: providerCall(sid: "CA3", status: "failed"), at: start + 3)
        #expect(try await updates.apply([errored]) == 1)
        #expect(try await updates.apply([failed]) == 0)
        let phoneCall = try await call(database, id)
        #expect(phoneCall.status == "errored")
        #expect(phoneCall.remoteErrorMessage == "Unable to create record: x")
    }

    @Test func eventsRoundTripThroughTheirJSON() throws {
        var event = PhoneCallStatusEvent.remotelyQueued(
            phoneCallID: 7, accountID: 3, call: providerCall(sid: "CA9", status: "queued"), at: Date(timeIntervalSince1970: 1_700_000_000.123456))
        event.remoteErrorMessage = "none"
        let decoded = try PhoneCallStatusEvent(payload: try JSONParser.parse(JSONSerializer.string(event.payload)))
        #expect(decoded == event)
        #expect(throws: PoisonMessage.self) { try PhoneCallStatusEvent(payload: ["version": 2]) }
    }
}
