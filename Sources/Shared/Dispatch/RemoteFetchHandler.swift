import Foundation
import Logging
import Metrics
import PostgresNIO

/// The `remote-fetch` role: for each `phone-calls.remote-fetch` job, fetches the call at the provider and
/// publishes what it found as a status event (Twilio's status mapped as SCFM did, the answer as
/// `remote_response`). A call that is no longer waiting for a fetch, or was never dialled, is skipped.
public struct RemoteFetchHandler: MessageHandler {
    let client: PostgresClient
    let accounts: ProviderAccounts
    let provider: ProviderClient
    let events: StatusEventPublisher
    let maximumAttempts: Int
    let logger: Logger

    private let fetched = Counter(label: "scfm_calls_fetched_total")

    public init(
        client: PostgresClient, accounts: ProviderAccounts, provider: ProviderClient, events: StatusEventPublisher,
        maximumAttempts: Int = 8, logger: Logger
    ) {
        self.client = client
        self.accounts = accounts
        self.provider = provider
        self.events = events
        self.maximumAttempts = maximumAttempts
        self.logger = logger
    }

    public func handle(_ message: KafkaMessage) async throws {
        let job = try PhoneCallJob(payload: try parsePayload(message))
        let rows = try await client.query(
            "SELECT status, remote_call_id FROM phone_calls WHERE id = \(job.phoneCallID)", logger: logger)
        var target: String?
        for try await (status, remoteCallID) in rows.decode((String, String?).self) {
            if status == PhoneCallStatus.remoteFetchQueued.rawValue { target = remoteCallID }
        }
        guard let sid = target else { return }
        let account = try await accounts.provider(for: job.accountID)
        var delay = Duration.milliseconds(500)
        for attempt in 1...maximumAttempts {
            switch await provider.fetchCall(account, sid: sid) {
            case .success(let call):
                try await events.publish(.fetched(phoneCallID: job.phoneCallID, accountID: job.accountID, call: call))
                fetched.increment()
                return
            case .rejected(_, let message):
                // The provider does not know the call (or us): back to remotely_queued with the reason, so it
                // can be fetched again later rather than stay waiting for a fetch forever.
                var event = PhoneCallStatusEvent(
                    phoneCallID: job.phoneCallID, accountID: job.accountID, status: .remotelyQueued, source: .remoteFetch)
                event.remoteErrorMessage = message
                try await events.publish(event)
                return
            case .throttled(let retryAfter):
                if attempt < maximumAttempts { try await pause(for: retryAfter ?? delay) }
            case .unavailable(let reason):
                logger.warning(
                    "provider unavailable while fetching a call", metadata: ["phone_call_id": "\(job.phoneCallID)", "reason": "\(reason)"])
                if attempt < maximumAttempts { try await pause(for: delay) }
            }
            delay = min(delay * 2, .seconds(30))
        }
        throw ProviderUnavailable(phoneCallID: job.phoneCallID)
    }
}

struct ProviderUnavailable: Error, CustomStringConvertible {
    let phoneCallID: Int64
    var description: String { "the provider did not answer a fetch of phone call \(phoneCallID)" }
}
