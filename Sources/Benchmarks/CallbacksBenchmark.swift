import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import PostgresNIO
import Shared
import TestSupport

/// Provider callbacks: signed `POST /api/remote_phone_call_events` through the running API (signature check,
/// call lookup, event and status event written in one transaction, TwiML answer), beside the floor of the
/// same SQL statements sent straight to PostgreSQL. A campaign dialling N calls per second brings one to
/// three callbacks per call, so this is the API's side of the dial rate.
struct CallbacksBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "callbacks",
        abstract: "Signed provider callbacks per second through the API, and the raw-SQL floor.")

    @Option(help: "Callbacks per measurement.")
    var callbacks = 10_000

    @Option(help: "Requests in flight at once.")
    var concurrency = 32

    @Option(help: "Base URL of a running API serving the same DATABASE_URL (without PUBLIC_BASE_URL).")
    var apiURL = "http://127.0.0.1:3999"

    func run() async throws {
        let logger = Logger(label: "scfm.bench")
        let (callbacks, concurrency, apiURL) = (self.callbacks, self.concurrency, self.apiURL)
        try await withDatabase(logger: logger, maximumConnections: concurrency + 4) { client in
            try await Migrator(client: client, logger: logger).migrate()
            let seed = DispatchSeed(client: client, logger: logger)
            let account = try await seed.createAccount(rate: 10)
            let sid = try await client.query("SELECT twilio_account_sid FROM accounts WHERE id = \(account)", logger: logger)
                .single { try $0.decode(String.self) }
            // Two sets of dialled calls: one for the API, one for the floor.
            let ids = try await seed.queuedCalls(accountID: account, count: callbacks * 2)
            try await client.query(
                "UPDATE phone_calls SET status = 'remotely_queued', remote_call_id = 'CB' || id WHERE account_id = \(account)",
                logger: logger)
            say("callbacks: \(callbacks) signed status callbacks, \(concurrency) in flight, account \(account)")

            let endpoint = "\(apiURL)/api/remote_phone_call_events"
            let apiCalls = Array(ids.prefix(callbacks))
            let api = try await inLanes(apiCalls, concurrency: concurrency) { id in
                let parameters = Self.parameters(sid: sid, callID: id)
                var request = HTTPClientRequest(url: endpoint)
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
                request.headers.add(
                    name: TwilioSignature.header, value: TwilioSignature.compute(url: endpoint, parameters: parameters, authToken: "secret"))
                request.body = .bytes(ByteBuffer(string: FormEncoding.encode(parameters)))
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
                _ = try await response.body.collect(upTo: 1 << 20)
                guard response.status == .created else { throw BenchmarkFailure("the API answered \(response.status)") }
            }
            let floorCalls = Array(ids.suffix(callbacks))
            // The recorder's batching, as the API runs it.
            let writes = MicroBatcher<ProviderCallbackRecorder.EventRecord, Int64>(maximumBatch: 200, linger: .milliseconds(2)) { records in
                try await ProviderCallbackRecorder.write(records, on: client, logger: logger)
            }
            let floor = try await inLanes(floorCalls, concurrency: concurrency) { id in
                try await Self.sameStatements(client: client, logger: logger, writes: writes, accountID: account, callID: id, sid: sid)
            }
            try await client.query(
                "DELETE FROM outbox_messages WHERE published_at IS NULL AND payload->>'source' = 'callback' AND (payload->>'account_id')::bigint = \(account)",
                logger: logger)

            say()
            say("  through the API:    \(Int(Double(callbacks) / api.seconds)) callbacks/s  \(api.latency.summary())")
            say("  raw-SQL floor:      \(Int(Double(callbacks) / floor.seconds)) callbacks/s  \(floor.latency.summary())")
            say("  ratio API / floor (time): \(String(format: "%.2f", api.seconds / floor.seconds))x")
        }
    }

    static func parameters(sid: String, callID: Int64) -> [(String, String)] {
        [
            ("AccountSid", sid), ("ApiVersion", "2010-04-01"), ("CallSid", "CB\(callID)"), ("CallStatus", "completed"),
            ("Direction", "outbound-api"), ("From", "1234"), ("To", "+85510000000"), ("CallDuration", "12"),
        ]
    }

    /// What the recorder sends for a callback about a dialled call: the lookup, then the event with its status
    /// event, written with the others arriving at the same time (one statement per batch).
    static func sameStatements(
        client: PostgresClient, logger: Logger, writes: MicroBatcher<ProviderCallbackRecorder.EventRecord, Int64>, accountID: Int64,
        callID: Int64, sid: String
    ) async throws {
        let callback = ProviderCallback(parameters: parameters(sid: sid, callID: callID))
        for try await _ in try await client.query(ProviderCallbackRecorder.findCall(callSID: callback.callSID, phoneCallID: nil), logger: logger) {}
        let event = PhoneCallStatusEvent.reported(phoneCallID: callID, accountID: accountID, status: .completed, callback: callback)
        _ = try await writes.submit(
            ProviderCallbackRecorder.EventRecord(
                callback: callback, accountID: accountID, phoneCallID: callID, flowName: "CallFlowLogic::Application", statusEvent: event))
    }
}
