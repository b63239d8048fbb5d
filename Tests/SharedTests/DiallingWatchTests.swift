import Logging
import PostgresNIO
import Shared
import TestSupport
import Testing

/// The figure behind the "campaign stopped dialling" alert: seconds since a waiting account last dialled, only
/// for running callouts with queued calls.
@Suite(.timeLimit(.minutes(2))) struct DiallingWatchTests {
    let logger = Logger(label: "scfm.tests.dialling-watch")

    @Test func idleSecondsCountFromTheLastDialOrTheStartWhicheverIsLater() async throws {
        let database = try await TestDatabases.shared.client(suite: "diallingwatch")
        let account = try await AccountRepository(client: database, logger: logger).create(AccountChanges())
        let other = try await AccountRepository(client: database, logger: logger).create(AccountChanges())
        let contact = try await ContactRepository(client: database, logger: logger).create(
            accountID: account.id, msisdn: "+85512345001", metadata: [:])
        let callout = try await CalloutRepository(client: database, logger: logger).create(accountID: account.id, CalloutChanges())
        // Started ten minutes ago, one call waiting, never dialled.
        try await database.query(
            "UPDATE callouts SET status = 'running', updated_at = now() - interval '10 minutes' WHERE id = \(callout.id)", logger: logger)
        try await database.query(
            """
            INSERT INTO phone_calls (account_id, contact_id, callout_id, status, msisdn)
            VALUES (\(account.id), \(contact.id), \(callout.id), 'queued', '+85512345001')
            """, logger: logger)
        let watch = DiallingWatch(client: database, logger: logger)
        var idle = try await watch.pass()
        #expect(idle[other.id] == nil, "an account with nothing waiting is not reported")
        #expect((idle[account.id] ?? 0) > 590 && (idle[account.id] ?? 0) < 700, "idle since the start: \(idle)")

        // Its last dial slot 30 s ago: idle since then.
        try await database.query(
            """
            INSERT INTO account_dial_schedules (account_id, next_slot_at, last_lease_started_at)
            VALUES (\(account.id), now(), now() - interval '30 seconds')
            """, logger: logger)
        idle = try await watch.pass()
        #expect((idle[account.id] ?? 0) > 25 && (idle[account.id] ?? 0) < 100, "idle since the last dial: \(idle)")

        // Paused: its waiting calls are held on purpose.
        try await database.query("UPDATE callouts SET status = 'paused' WHERE id = \(callout.id)", logger: logger)
        idle = try await watch.pass()
        #expect(idle[account.id] == nil)

        // Running again with nothing queued: nothing waits.
        try await database.query("UPDATE callouts SET status = 'running' WHERE id = \(callout.id)", logger: logger)
        try await database.query("UPDATE phone_calls SET status = 'completed' WHERE callout_id = \(callout.id)", logger: logger)
        idle = try await watch.pass()
        #expect(idle[account.id] == nil)
    }
}
