import FakeProvider
import Foundation
import Logging
import Shared
import Testing

/// The fake provider speaks Twilio's Calls API as `ProviderClient` uses it: create, fetch, list, errors in
/// Twilio's shape, call progress over time, and a ledger of every create.
@Suite(.timeLimit(.minutes(10))) struct FakeProviderTests {
    let logger = Logger(label: "scfm.tests.fake-provider")

    @Test func createFetchAndListCallsThroughTheProviderClient() async throws {
        var settings = FakeProviderSettings()
        settings.outcomes = [("busy", 1)]
        settings.queueDuration = .milliseconds(200)
        settings.ringDuration = .milliseconds(200)
        let harness = try await DispatchHarness.start(suite: "fakeprovider", provider: settings)
        defer { Task { await harness.stop() } }
        let client = ProviderClient(http: DispatchHarness.providerHTTP, logger: logger)
        let account = ProviderAccount(platform: .twilio, baseURL: harness.providerURL, accountSID: "AC1", authToken: "t", maxCallsPerSecond: 10)

        let created = await client.createCall(
            account, to: "+85512345678",
            parameters: ["from": "1234", "url": "https://example.com/twiml", "status_callback_event": ["ringing", "answered"]])
        guard case .success(let call) = created else { Issue.record("create failed: \(created)"); return }
        #expect(call.status == "queued")
        #expect(call.to == "+85512345678")
        #expect(call.direction == "outbound-api")
        #expect(call.sid.hasPrefix("CA"))
        #expect(call.json["account_sid"] == "AC1")

        try await Task.sleep(for: .milliseconds(500))
        guard case .success(let fetched) = await client.fetchCall(account, sid: call.sid) else { Issue.record("fetch failed"); return }
        #expect(fetched.status == "busy")

        guard case .success(let listed) = await client.recentCalls(account, to: "+85512345678") else { Issue.record("list failed"); return }
        #expect(listed.map(\.sid) == [call.sid])
        guard case .success(let none) = await client.recentCalls(account, to: "+85599999999") else { Issue.record("list failed"); return }
        #expect(none.isEmpty)

        // Another account does not see the call.
        var other = account
        other.accountSID = "AC2"
        guard case .rejected(let status, _) = await client.fetchCall(other, sid: call.sid) else { Issue.record("expected 404"); return }
        #expect(status == 404)

        let ledger = try await harness.ledger()
        #expect(ledger["creates"]?.intValue == 1)
        #expect(ledger["distinct_to"]?.intValue == 1)
    }

    @Test func refusalsComeInTwiliosWordsAsSCFMStoredThem() async throws {
        let harness = try await DispatchHarness.start(suite: "fakeproviderrefusals", provider: FakeProviderSettings())
        defer { Task { await harness.stop() } }
        let client = ProviderClient(http: DispatchHarness.providerHTTP, logger: logger)
        var account = ProviderAccount(platform: .twilio, baseURL: harness.providerURL, accountSID: "", authToken: "t", maxCallsPerSecond: 10)

        // SCFM's guide: a missing account sid.
        let missingSID = await client.createCall(account, to: "+85512345678", parameters: ["from": "1234", "url": "https://x"])
        guard case .rejected(404, let message) = missingSID else { Issue.record("expected 404, got \(missingSID)"); return }
        #expect(message == "Unable to create record: The requested resource /2010-04-01/Accounts//Calls.json was not found")

        account.accountSID = "AC1"
        let badNumber = await client.createCall(account, to: "12345", parameters: ["from": "1234", "url": "https://x"])
        guard case .rejected(400, let badNumberMessage) = badNumber else { Issue.record("expected 400, got \(badNumber)"); return }
        #expect(badNumberMessage == "Unable to create record: The 'To' number 12345 is not a valid phone number.")

        let noURL = await client.createCall(account, to: "+85512345678", parameters: ["from": "1234"])
        guard case .rejected(400, let noURLMessage) = noURL else { Issue.record("expected 400, got \(noURL)"); return }
        #expect(noURLMessage == "Unable to create record: Url parameter is required.")
        #expect(try await harness.ledger()["creates"]?.intValue == 0)
    }

    @Test func injectedThrottlingAndErrorsAndItsOwnRateCap() async throws {
        var settings = FakeProviderSettings()
        settings.maxCallsPerSecond = 5
        let harness = try await DispatchHarness.start(suite: "fakeprovidercap", provider: settings)
        defer { Task { await harness.stop() } }
        let client = ProviderClient(http: DispatchHarness.providerHTTP, logger: logger)
        let account = ProviderAccount(platform: .twilio, baseURL: harness.providerURL, accountSID: "AC1", authToken: "t", maxCallsPerSecond: 10)
        var created = 0
        var throttled = 0
        // All at once, so they fall in one second however busy the machine is.
        let outcomes = await withTaskGroup(of: ProviderOutcome<ProviderCall>.self) { group in
            for index in 0..<8 {
                group.addTask { await client.createCall(account, to: "+8551234560\(index)", parameters: ["from": "1", "url": "https://x"]) }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        for outcome in outcomes {
            switch outcome {
            case .success: created += 1
            case .throttled(let retryAfter):
                throttled += 1
                #expect(retryAfter == .seconds(1))
            default: Issue.record("unexpected outcome")
            }
        }
        // The cap's invariant: never more than 5 accepted in any second. Eight sent at once arrive within a second
        // on any machine worth testing on, so 3 are refused; should a stalled machine spread them wider, more
        // may pass, but never above the cap, and every request is answered one way or the other.
        let ledger = try await harness.ledger()
        #expect(created + throttled == 8)
        #expect(created >= 5, "the first 5 of a second are accepted")
        #expect(ledger["creates"]?.intValue == created && ledger["throttled"]?.intValue == throttled)
        #expect((ledger["max_creates_in_any_second"]?.intValue ?? 99) <= 5, "never above the cap in any sliding second")
        if created == 5 { #expect(throttled == 3) }
    }

    @Test func outcomeMixAndRequestParameterNames() throws {
        let mix = try FakeProviderSettings.parseOutcomes("completed=1,busy=2")
        #expect(mix.map(\.status) == ["completed", "busy"])
        #expect(throws: FakeProviderSettings.InvalidOutcomes.self) { try FakeProviderSettings.parseOutcomes("ringing=1") }
        #expect(TwilioParameterNames.pascalCase("status_callback_method") == "StatusCallbackMethod")
        let form = TwilioParameterNames.createCallForm(
            to: "+1", parameters: ["from": "2", "url": "u", "status_callback_event": ["ringing", "answered"]])
        #expect(form.map(\.0) == ["To", "From", "Url", "StatusCallbackEvent", "StatusCallbackEvent"])
        #expect(FormEncoding.decode(FormEncoding.encode([("Url", "https://x/y?a=1&b=2 c")])).first?.1 == "https://x/y?a=1&b=2 c")
    }
}
