import Foundation
import Logging
import PostgresNIO
import Shared
import TestSupport
import Testing

/// What a queue worker knows of paused callouts at the instant a dial leaves: with the listener running, a
/// pause (and a resume) reaches `isHeldNow` as PostgreSQL commits it, without another read.
@Suite(.timeLimit(.minutes(10))) struct CalloutHoldsTests {
    let logger = Logger(label: "scfm.tests.callout-holds")

    @Test func aPauseAndAResumeArePushedToTheHolds() async throws {
        let database = try await TestDatabases.shared.client(suite: "callout_holds")
        let seed = AutopilotSeed(client: database, logger: logger)
        let account = try await seed.createAccount(rate: 10, autopilot: ["enabled": false])
        let callout = try await seed.createCallout(accountID: account, participants: 1, firstNumber: 85_552_000_000)
        // A read a day old would never be refreshed in this test: only the notifications can change the answer.
        let holds = CalloutHolds(client: database, logger: logger, maximumAge: .seconds(86_400))
        #expect(try await holds.isHeld(callout) == false)
        let (started, announce) = AsyncStream.makeStream(of: Void.self)
        let listening = Task { await holds.listen { announce.yield() } }
        defer { listening.cancel() }
        // Once the LISTEN is in place (not after a guessed delay): a change before it would go unannounced.
        let inPlace = try await within(.seconds(10), "the holds' LISTEN in place") {
            for await _ in started { return true }
            return false
        }
        #expect(inPlace)

        try await database.query("UPDATE callouts SET status = 'paused' WHERE id = \(callout)", logger: logger)
        #expect(try await eventually { holds.isHeldNow(callout) }, "the pause was pushed")
        #expect(try await holds.isHeld(callout), "and the read answers agree")
        try await database.query("UPDATE callouts SET status = 'running' WHERE id = \(callout)", logger: logger)
        #expect(try await eventually { !holds.isHeldNow(callout) }, "the resume was pushed")
        listening.cancel()
        await listening.value
    }

    private func eventually(_ condition: @escaping () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(3)
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }
}
