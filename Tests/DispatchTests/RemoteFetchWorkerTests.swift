import FakeProvider
import Foundation
import Logging
import ServiceLifecycle
import Shared
import TestSupport
import Testing

/// The `remote-fetch` role over the mock cluster and the fake provider: a call queued for a fetch ends in the
/// status the provider reports, with its answer as `remote_response`.
@Suite(.timeLimit(.minutes(10))) struct RemoteFetchWorkerTests {
    @Test func aFetchedCallTakesTheProvidersStatus() async throws {
        var settings = FakeProviderSettings()
        settings.outcomes = [("no-answer", 1)]
        settings.queueDuration = .milliseconds(50)
        settings.ringDuration = .milliseconds(50)
        let harness = try await DispatchHarness.start(suite: "remotefetchworker", provider: settings)
        defer { Task { await harness.stop() } }
        let account = try await harness.createAccount(rate: 100)
        let id = try await harness.seedQueuedCalls(accountID: account, count: 1)[0]
        let msisdn = try await harness.database.query("SELECT msisdn FROM phone_calls WHERE id = \(id)", logger: harness.logger)
            .single { try $0.decode(String.self) }
        // The call as a queue worker left it, dialled at the fake provider, then queued for a fetch.
        let sid = try await harness.database.query(
            "SELECT twilio_account_sid FROM accounts WHERE id = \(account)", logger: harness.logger
        ).single { try $0.decode(String.self) }
        let providerAccount = ProviderAccount(
            platform: .twilio, baseURL: harness.providerURL, accountSID: sid, authToken: "secret", maxCallsPerSecond: 100)
        guard
            case .success(let created) = await ProviderClient(http: DispatchHarness.providerHTTP, logger: harness.logger)
                .createCall(providerAccount, to: msisdn, parameters: ["from": "1234", "url": "https://x"])
        else { Issue.record("the fake provider did not create the call"); return }
        try await harness.database.query(
            "UPDATE phone_calls SET status = 'remote_fetch_queued', remote_call_id = \(created.sid) WHERE id = \(id)",
            logger: harness.logger)
        try await Task.sleep(for: .milliseconds(300))

        let producer = try KafkaProducer(configuration: harness.kafka, logger: harness.logger)
        let services: [any Service] = [
            producer, try harness.remoteFetchWorker(group: "scfm-remote-fetch-\(UUID().uuidString)", producer: producer),
            try harness.statusWorker(group: "scfm-status-\(UUID().uuidString)"),
        ]
        let group = ServiceGroup(services: services, logger: harness.logger)
        let running = Task { try await group.run() }
        try await harness.publishQueueJobs([id], accountID: account, topic: .phoneCallsRemoteFetch)
        let fetched = try await harness.wait(timeout: .seconds(30)) {
            try await harness.statusCounts(accountID: account)["not_answered"] == 1
        }
        await group.triggerGracefulShutdown()
        try await running.value

        #expect(fetched)
        let call = try await PhoneCallRepository(client: harness.database, logger: harness.logger).find(accountID: account, id: id)
        #expect(call.status == "not_answered")
        #expect(call.remoteStatus == "no-answer")
        #expect(call.remoteResponse["sid"]?.stringValue == created.sid)
    }
}
