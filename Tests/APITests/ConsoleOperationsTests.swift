import Console
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import PostgresNIO
import Shared
import Testing

@testable import API

/// The console's contacts, imports, recordings, composing, monitor and results over HTTP: what each does,
/// that another account's user reaches none of it (404), that a viewer changes nothing (403), and that an
/// upload without the session's CSRF token is refused.
extension ConsoleTests {
    /// A file sent as the request body, as the console's script sends it.
    static func upload(
        _ browser: inout Browser, _ path: String, _ content: ByteBuffer, csrf: String?, filename: String
    ) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/octet-stream"]
        headers[HTTPField.Name("X-Filename")!] = filename
        if let csrf { headers[HTTPField.Name("X-CSRF-Token")!] = csrf }
        if !browser.cookies.isEmpty { headers[.cookie] = browser.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        return try await browser.client.execute(uri: path, method: .post, headers: headers, body: content)
    }

    /// A signed-in browser and the session's CSRF token (read from the home page's sign-out form).
    func signedIn(_ role: ConsoleUser.Role, account: Int64, client: any TestClientProtocol) async throws -> (Browser, String) {
        var browser = Browser(client: client)
        _ = try await signIn(&browser, try await user(role, account: account))
        let home = try await browser.request(.get, "/console")
        return (browser, try #require(Browser.csrf(home)))
    }

    /// A WAV file of `samples` silent 8 kHz samples.
    static func wav(samples: Int = 800) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeString("RIFF")
        buffer.writeInteger(UInt32(36 + samples * 2), endianness: .little)
        buffer.writeString("WAVEfmt ")
        buffer.writeInteger(UInt32(16), endianness: .little)
        buffer.writeInteger(UInt16(1), endianness: .little)
        buffer.writeInteger(UInt16(1), endianness: .little)
        buffer.writeInteger(UInt32(8000), endianness: .little)
        buffer.writeInteger(UInt32(16000), endianness: .little)
        buffer.writeInteger(UInt16(2), endianness: .little)
        buffer.writeInteger(UInt16(16), endianness: .little)
        buffer.writeString("data")
        buffer.writeInteger(UInt32(samples * 2), endianness: .little)
        buffer.writeRepeatingByte(0, count: samples * 2)
        return buffer
    }

    @Test func importingContactsReportsEachRefusedLine() async throws {
        let (account, _) = try await api.account()
        let (other, _) = try await api.account()
        try await api.test { client in
            var (browser, csrf) = try await signedIn(.operator, account: account.id, client: client)
            let csv = "msisdn,province\n+85512345601,Kandal\nnot-a-number,Kandal\n+85512345602,Takeo,extra\n+85512345603,Takeo\n"
            let refused = try await Self.upload(&browser, "/console/imports", ByteBuffer(string: csv), csrf: nil, filename: "a.csv")
            #expect(refused.status == .forbidden, "an upload without the CSRF token")
            let uploaded = try await Self.upload(&browser, "/console/imports", ByteBuffer(string: csv), csrf: csrf, filename: "people.csv")
            #expect(uploaded.status == .created)
            let location = try #require(try uploaded.json["location"]?.stringValue)
            let result = try await browser.request(.get, location)
            let html = String(buffer: result.body)
            #expect(html.contains(#"<strong id="rejected">2</strong>"#), "two refused lines: \(html)")
            #expect(html.contains("<td>3</td><td>msisdn not-a-number is an invalid number</td>"))
            #expect(html.contains("<td>4</td><td>has 3 cells, the header has 2</td>"))
            let errors = try await browser.request(.get, location + "/errors.csv")
            #expect(String(buffer: errors.body) == "line,error\n3,msisdn not-a-number is an invalid number\n4,\"has 3 cells, the header has 2\"\n")
            let contacts = try await browser.request(.get, "/console/contacts?key=province&value=Takeo")
            #expect(String(buffer: contacts.body).contains("+85512345603") && !String(buffer: contacts.body).contains("+85512345601"))
            #expect(String(buffer: contacts.body).contains("people.csv"), "the import history lists the file")
            let count = try await browser.request(.get, "/console/contacts/count?key=province&value=Kandal")
            #expect(try count.json == ["count": 1])

            // Another account's user: the import's page and errors are 404; its count and search see none of it.
            var (stranger, strangerCSRF) = try await signedIn(.admin, account: other.id, client: client)
            #expect(try await stranger.request(.get, location).status == .notFound)
            #expect(try await stranger.request(.get, location + "/errors.csv").status == .notFound)
            #expect(try await stranger.request(.get, "/console/contacts/count?key=province&value=Kandal").json == ["count": 0])
            #expect(!String(buffer: try await stranger.request(.get, "/console/contacts").body).contains("+85512345601"))
            // A viewer imports nothing.
            var (viewer, viewerCSRF) = try await signedIn(.viewer, account: account.id, client: client)
            let denied = try await Self.upload(&viewer, "/console/imports", ByteBuffer(string: csv), csrf: viewerCSRF, filename: "v.csv")
            #expect(denied.status == .forbidden)
            _ = strangerCSRF
            // The do-not-call list takes the same file format.
            let blocked = try await Self.upload(
                &browser, "/console/imports?destination=do_not_call_entries", ByteBuffer(string: "msisdn\n+85512345609\n"), csrf: csrf,
                filename: "dnc.csv")
            #expect(blocked.status == .created)
            #expect(String(buffer: try await browser.request(.get, "/console/do_not_call").body).contains("+85512345609"))
        }
    }

    @Test func composingACalloutWithARecordingPopulatesItsAudience() async throws {
        let (account, _) = try await api.account()
        let (other, _) = try await api.account()
        for (index, province) in ["Kandal", "Kandal", "Takeo"].enumerated() {
            _ = try await ContactRepository(client: api.database, logger: api.logger).create(
                accountID: account.id, msisdn: "+8551234570\(index)", metadata: ["province": .string(province)])
        }
        try await api.test { client in
            var (browser, csrf) = try await signedIn(.operator, account: account.id, client: client)
            let notAudio = try await Self.upload(&browser, "/console/recordings", ByteBuffer(string: "hello"), csrf: csrf, filename: "x.mp3")
            #expect(notAudio.status == .unprocessableContent, "a file that is not MP3 or WAV")
            let uploaded = try await Self.upload(&browser, "/console/recordings", Self.wav(), csrf: csrf, filename: "warning.wav")
            #expect(uploaded.status == .created)
            let token = try #require(try uploaded.json["token"]?.stringValue)
            let path = try #require(try uploaded.json["path"]?.stringValue)
            // The provider fetches it without a session, by its token only.
            let served = try await client.execute(uri: path, method: .get)
            #expect(served.status == .ok && served.headers[.contentType] == "audio/wav" && served.body == Self.wav())
            #expect(try await client.execute(uri: "/console/audio/\(String(repeating: "a", count: 43)).wav", method: .get).status == .notFound)

            let invalid = try await browser.request(
                .post, "/console/callouts", form: ["csrf_token": csrf, "name": "", "message_kind": "text", "message": "", "from": ""])
            #expect(invalid.status == .unprocessableContent)
            #expect(String(buffer: invalid.body).contains("Give the callout a name."))

            let created = try await browser.request(
                .post, "/console/callouts",
                form: [
                    "csrf_token": csrf, "name": "Flood, Kandal", "message_kind": "audio", "audio_token": token, "key": "province",
                    "value": "Kandal", "from": "1294", "max_attempts": "2", "retry_minutes": "10", "expires_hours": "12", "urgent": "yes",
                ])
            #expect(created.status == .seeOther)
            let calloutPath = try #require(created.headers[.location])
            let calloutID = try #require(Int64(calloutPath.split(separator: "/").last ?? ""))
            let callout = try await CalloutRepository(client: api.database, logger: api.logger).find(accountID: account.id, id: calloutID)
            #expect(callout.callFlowLogic == PlayMessageCallFlow.name)
            #expect(callout.metadata["audio_url"]?.stringValue?.hasSuffix(path) == true)
            #expect(callout.settings["autopilot"]?["retry"]?["max_attempts"] == 2)
            #expect(callout.settings["autopilot"]?["remote_request_params"]?["from"] == "1294")
            let population = try await api.database.query(
                "SELECT status, parameters FROM batch_operations WHERE callout_id = \(calloutID)", logger: api.logger
            ).single { try $0.decode((String, JSONValue).self) }
            #expect(population.0 == "queued" && population.1 == ["contact_filter_params": ["metadata": ["province": "Kandal"]]])
            let page = String(buffer: try await browser.request(.get, calloutPath).body)
            #expect(page.contains(#"<audio controls src="\#(path)""#))

            // Another account's user reaches none of it; a viewer composes nothing.
            var (stranger, _) = try await signedIn(.admin, account: other.id, client: client)
            for route in [calloutPath, calloutPath + "/monitor?once", calloutPath + "/results.csv"] {
                #expect(try await stranger.request(.get, route).status == .notFound, "\(route) for another account's user")
            }
            var (viewer, viewerCSRF) = try await signedIn(.viewer, account: account.id, client: client)
            #expect(try await viewer.request(.get, "/console/callouts/new").status == .forbidden)
            let viewerPost = try await viewer.request(
                .post, "/console/callouts", form: ["csrf_token": viewerCSRF, "name": "x", "message": "x", "from": "1"])
            #expect(viewerPost.status == .forbidden)
            #expect(try await Self.upload(&viewer, "/console/recordings", Self.wav(), csrf: viewerCSRF, filename: "v.wav").status == .forbidden)
            let tokenless = try await browser.request(.post, "/console/callouts", form: ["name": "x", "message": "x", "from": "1"])
            #expect(tokenless.status == .forbidden)
            let callouts = try await api.database.query("SELECT count(*) FROM callouts WHERE account_id = \(account.id)", logger: api.logger)
                .single { try $0.decode(Int64.self) }
            #expect(callouts == 1, "only the composed callout was created")
        }
    }

    /// The monitor's first event carries the same figures as `GET /api/callouts/:id/callout_progress`.
    @Test func theMonitorAgreesWithCalloutProgress() async throws {
        let (account, token) = try await api.account()
        try await api.test { client in
            let callout = try await client.create("/api/callouts", token: token, form: "call_flow_logic=CallFlowLogic::HelloWorld")
            for index in 0..<3 {
                let contact = try await client.create("/api/contacts", token: token, form: "msisdn=+85512345680\(index)")
                _ = try await client.create("/api/callouts/\(callout)/callout_participations", token: token, form: "contact_id=\(contact)")
            }
            var (browser, _) = try await signedIn(.viewer, account: account.id, client: client)
            let stream = try await browser.request(.get, "/console/callouts/\(callout)/monitor?once")
            #expect(stream.headers[.contentType] == "text/event-stream")
            let events = String(buffer: stream.body).components(separatedBy: "\n\n").filter { $0.hasPrefix("data: ") }
            #expect(events.count >= 1)
            let first = try JSONParser.parse(String(events[0].dropFirst(6)))
            let progress = try await client.request(.get, "/api/callouts/\(callout)/callout_progress", token: token).json
            for key in ["participations", "remaining", "answered", "exhausted", "do_not_call", "expired", "dialled", "callout_status"] {
                #expect(first[key] == progress[key], "\(key): monitor \(String(describing: first[key])), API \(String(describing: progress[key]))")
            }
            #expect(first["reason"] == "not_started")
            let results = try await browser.request(.get, "/console/callouts/\(callout)/results.csv")
            let lines = String(buffer: results.body).split(separator: "\n")
            #expect(lines.count == 4 && lines[0].hasPrefix("callout_participation_id,contact_id,msisdn"))
        }
    }
}

/// Settings, people and tokens: admins only, scoped to their account, secrets shown once at most.
extension ConsoleTests {
    @Test func adminsKeepSettingsPeopleAndTokens() async throws {
        let (account, _) = try await api.account()
        let (other, _) = try await api.account()
        try await api.test { client in
            var (admin, csrf) = try await signedIn(.admin, account: account.id, client: client)
            // The provider: the auth token is sealed, never rendered; an empty field keeps it.
            let saved = try await admin.request(
                .post, "/console/settings/provider",
                form: [
                    "csrf_token": csrf, "platform_provider_name": "twilio", "twilio_account_sid": "AC123",
                    "twilio_auth_token": "super-secret-token-1",
                ])
            #expect(saved.status == .seeOther, "\(String(buffer: saved.body).components(separatedBy: "notice-error\">").last?.prefix(200) ?? "")")
            let page = String(buffer: try await admin.request(.get, "/console/settings").body)
            #expect(!page.contains("super-secret-token-1") && page.contains("AC123") && page.contains("set: leave empty to keep it"))
            let stored = try await api.database.query(
                "SELECT twilio_auth_token FROM accounts WHERE id = \(account.id)", logger: api.logger
            ).single { try $0.decode(String?.self) }
            #expect(stored != nil && stored?.contains("super-secret-token-1") == false, "sealed at rest")
            _ = try await admin.request(
                .post, "/console/settings/provider",
                form: ["csrf_token": csrf, "platform_provider_name": "twilio", "twilio_account_sid": "AC123", "twilio_auth_token": ""])
            let kept = try await api.database.query(
                "SELECT twilio_auth_token FROM accounts WHERE id = \(account.id)", logger: api.logger
            ).single { try $0.decode(String?.self) }
            #expect(kept == stored, "an empty field keeps the token")

            // Limits and defaults become the account's settings.
            let limits = try await admin.request(
                .post, "/console/settings/limits", form: ["csrf_token": csrf, "rate": "25", "concurrent": "", "from": "1294", "attempts": "4"])
            #expect(limits.status == .seeOther)
            let settings = try await AccountRepository(client: api.database, logger: api.logger).find(id: account.id).settings
            #expect(settings["max_calls_per_second"] == 25 && settings["autopilot"]?["retry"]?["max_attempts"] == 4)
            #expect(settings["autopilot"]?["remote_request_params"]?["from"] == "1294")
            let outOfRange = try await admin.request(.post, "/console/settings/limits", form: ["csrf_token": csrf, "rate": "-1"])
            #expect(outOfRange.status == .unprocessableContent)

            // An invitation: the link sets the password once; the invited person then signs in.
            let invited = String(
                buffer: try await admin.request(
                    .post, "/console/settings/users", form: ["csrf_token": csrf, "email": "new@agency.example.org", "role": "viewer"]
                )
                .body)
            let link = try #require(invited.range(of: #"<code id="notice-link">"#).map { String(invited[$0.upperBound...].prefix { $0 != "<" }) })
            let path = try #require(URL(string: link)?.path)
            var stranger = Browser(client: client)
            let form = try await stranger.request(.get, path)
            #expect(form.status == .ok)
            let differ = try await stranger.request(
                .post, path, form: ["csrf_token": Browser.csrf(form) ?? "", "password": "a long new password", "confirmation": "other"])
            #expect(differ.status == .unprocessableContent)
            let set = try await stranger.request(
                .post, path,
                form: ["csrf_token": Browser.csrf(form) ?? "", "password": "a long new password", "confirmation": "a long new password"])
            #expect(set.status == .seeOther)
            #expect(try await stranger.request(.get, path).status == .notFound, "a link works once")
            let user = try await ConsoleUsers(client: api.database, logger: api.logger).authenticate(
                email: "new@agency.example.org", password: "a long new password")
            #expect(user?.role == .viewer && user?.accountID == account.id)

            // A token: shown once, listed by its start, revoked.
            let made = String(buffer: try await admin.request(.post, "/console/settings/tokens", form: ["csrf_token": csrf, "name": "crm"]).body)
            let secret = try #require(made.range(of: #"<code id="notice-secret">"#).map { String(made[$0.upperBound...].prefix { $0 != "<" }) })
            #expect(try await client.request(.get, "/api/contacts", token: secret).status == .ok)
            #expect(!String(buffer: try await admin.request(.get, "/console/settings").body).contains(secret))
            let tokenID = try await api.database.query(
                "SELECT id FROM access_tokens WHERE account_id = \(account.id) AND metadata ->> 'name' = 'crm'", logger: api.logger
            ).single { try $0.decode(Int64.self) }

            // Another account's admin: 404 for this account's users and tokens; an operator: 403 for all of it.
            var (foreign, foreignCSRF) = try await signedIn(.admin, account: other.id, client: client)
            let newUser = try #require(user)
            #expect(
                try await foreign.request(.post, "/console/settings/users/\(newUser.id)/reset", form: ["csrf_token": foreignCSRF]).status == .notFound
            )
            #expect(
                try await foreign.request(.post, "/console/settings/users/\(newUser.id)/disable", form: ["csrf_token": foreignCSRF]).status
                    == .notFound)
            #expect(
                try await foreign.request(.post, "/console/settings/tokens/\(tokenID)/revoke", form: ["csrf_token": foreignCSRF]).status == .notFound)
            #expect(!String(buffer: try await foreign.request(.get, "/console/settings").body).contains("AC123"))
            var (operatorBrowser, operatorCSRF) = try await signedIn(.operator, account: account.id, client: client)
            #expect(try await operatorBrowser.request(.get, "/console/settings").status == .forbidden)
            let refused = try await operatorBrowser.request(.post, "/console/settings/tokens", form: ["csrf_token": operatorCSRF, "name": "x"])
            #expect(refused.status == .forbidden)
            #expect(try await client.request(.get, "/api/contacts", token: secret).status == .ok, "untouched by the others")

            let revoked = try await admin.request(.post, "/console/settings/tokens/\(tokenID)/revoke", form: ["csrf_token": csrf])
            #expect(revoked.status == .seeOther)
            #expect(try await client.request(.get, "/api/contacts", token: secret).status == .unauthorized)
            let actions = try await AuditTrail(client: api.database, logger: api.logger).recent(accountID: account.id).map(\.action)
            for action in [
                "settings.provider_changed", "settings.limits_changed", "user.invited", "password.set", "access_token.created",
                "access_token.revoked",
            ] {
                #expect(actions.contains(action), "audited: \(action)")
            }
        }
    }
}

/// The TOTP second factor: set up by the user, then asked for at every sign-in; a code counts once.
extension ConsoleTests {
    @Test func aSecondFactorIsAskedForOnceTurnedOn() async throws {
        let (account, _) = try await api.account()
        let person = try await user(.operator, account: account.id)
        try await api.test { client in
            var browser = Browser(client: client)
            _ = try await signIn(&browser, person)
            let csrf = try #require(Browser.csrf(try await browser.request(.get, "/console")))
            let begun = String(buffer: try await browser.request(.post, "/console/security", form: ["csrf_token": csrf, "action": "begin"]).body)
            let secret = try #require(begun.range(of: #"<code id="totp-secret">"#).map { String(begun[$0.upperBound...].prefix { $0 != "<" }) })
            let stored = try await api.database.query("SELECT totp_secret FROM console_users WHERE id = \(person.id)", logger: api.logger)
                .single { try $0.decode(String?.self) }
            #expect(stored?.hasPrefix("scfm:v1:") == true && stored?.contains(secret) == false, "sealed at rest")
            let wrong = try await browser.request(.post, "/console/security", form: ["csrf_token": csrf, "action": "confirm", "code": "000000"])
            #expect(wrong.status == .unprocessableContent)
            let now = Date()
            let code = TOTP.code(secret: try #require(Base32.decode(secret)), step: TOTP.step(at: now))
            let confirmed = try await browser.request(.post, "/console/security", form: ["csrf_token": csrf, "action": "confirm", "code": code])
            #expect(confirmed.status == .ok && String(buffer: confirmed.body).contains("signing in asks for a code"))

            // The next sign-in: the password alone reaches only the code page.
            var next = Browser(client: client)
            let afterPassword = try await signIn(&next, person)
            #expect(afterPassword.headers[.location] == "/console/second_factor")
            #expect(try await next.request(.get, "/console").headers[.location] == "/console/sign_in", "no page before the code")
            let codePage = try await next.request(.get, "/console/second_factor")
            let codeCSRF = try #require(Browser.csrf(codePage))
            let reused = try await next.request(.post, "/console/second_factor", form: ["csrf_token": codeCSRF, "code": code])
            #expect(reused.status == .unauthorized, "the code used to confirm is spent")
            let following = TOTP.code(secret: try #require(Base32.decode(secret)), step: TOTP.step(at: now) + 1)
            let passed = try await next.request(.post, "/console/second_factor", form: ["csrf_token": codeCSRF, "code": following])
            #expect(passed.status == .seeOther && passed.headers[.location] == "/console")
            #expect(try await next.request(.get, "/console").status == .ok)
            let actions = try await AuditTrail(client: api.database, logger: api.logger).recent(accountID: account.id).map(\.action)
            #expect(actions.contains("second_factor.enabled") && actions.contains("password_accepted"))
        }
    }
}

/// The catalogue: Khmer is a file (`Translations/km.json`) of the English table's names, chosen by
/// Accept-Language or by the language links.
extension ConsoleTests {
    @Test func khmerIsATranslationFileOfEveryString() throws {
        let english = ConsoleText().values
        let khmer = try #require(ConsoleText.catalogues["km"]).values
        #expect(khmer["language"] == "km")
        let untranslated = english.keys.filter { khmer[$0] == english[$0] && !["product"].contains($0) }.sorted()
        #expect(untranslated.isEmpty, "strings left in English: \(untranslated)")
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/API/Console/Translations/km.json")
        let names = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: String]).keys
        let unknown = names.filter { english[$0] == nil }.sorted()
        #expect(unknown.isEmpty, "names in km.json that the English table does not have: \(unknown)")
        #expect(ConsoleText().confirmation("start", people: 3).consequence.contains("3 people"))
        #expect(try #require(ConsoleText.catalogues["km"]).confirmation("start", people: 3).consequence.contains("3 នាក់"))
    }

    @Test func pagesAnswerInTheLanguageAsked() async throws {
        try await api.test { client in
            let khmer = try await client.execute(uri: "/console/sign_in", method: .get, headers: [.acceptLanguage: "km-KH,km;q=0.9,en;q=0.5"])
            let html = String(buffer: khmer.body)
            #expect(html.contains(#"<html lang="km">"#) && html.contains("ចូលទៅកុងសូលជូនដំណឹង"))
            let other = try await client.execute(uri: "/console/sign_in", method: .get, headers: [.acceptLanguage: "fr-FR"])
            #expect(String(buffer: other.body).contains("Sign in to the alert console"), "a language without a table: English")
            var browser = Browser(client: client)
            let chosen = try await browser.request(.get, "/console/language/km")
            #expect(chosen.status == .seeOther && browser.cookies["scfm_lang"] == "km")
            #expect(String(buffer: try await browser.request(.get, "/console/sign_in").body).contains("ចូលទៅកុងសូលជូនដំណឹង"))
            #expect(try await browser.request(.get, "/console/language/xx").status == .notFound)
        }
    }
}

/// A super admin acts in an agency's account; nobody else can.
extension ConsoleTests {
    @Test func aSuperAdminActsInAnotherAccountAndNobodyElseCan() async throws {
        let (platform, _) = try await api.account(superAdmin: true)
        let (agency, agencyToken) = try await api.account()
        let (other, _) = try await api.account()
        try await api.test { client in
            let callout = try await client.create(
                "/api/callouts", token: agencyToken, form: "call_flow_logic=CallFlowLogic::HelloWorld&metadata[name]=Agency%20drill")
            var (operatorBrowser, operatorCSRF) = try await signedIn(.admin, account: platform.id, client: client)
            #expect(String(buffer: try await operatorBrowser.request(.get, "/console/accounts").body).contains("act-\(agency.id)"))
            #expect(try await operatorBrowser.request(.get, "/console/callouts/\(callout)").status == .notFound, "not before the switch")
            let switched = try await operatorBrowser.request(.post, "/console/accounts/\(agency.id)/act", form: ["csrf_token": operatorCSRF])
            #expect(switched.status == .seeOther)
            let page = String(buffer: try await operatorBrowser.request(.get, "/console/callouts/\(callout)").body)
            #expect(page.contains("Agency drill") && page.contains(#"<span id="acting-in">Acting in account \#(agency.id)</span>"#))
            let events = try await AuditTrail(client: api.database, logger: api.logger).recent(accountID: agency.id)
            #expect(events.contains { $0.action == "account.entered" }, "the agency sees who came in")
            _ = try await operatorBrowser.request(.post, "/console/accounts/\(platform.id)/act", form: ["csrf_token": operatorCSRF])
            #expect(try await operatorBrowser.request(.get, "/console/callouts/\(callout)").status == .notFound, "back in its own account")

            // An agency's admin: no accounts page, no switch.
            var (agencyAdmin, agencyCSRF) = try await signedIn(.admin, account: other.id, client: client)
            #expect(try await agencyAdmin.request(.get, "/console/accounts").status == .forbidden)
            #expect(try await agencyAdmin.request(.post, "/console/accounts/\(agency.id)/act", form: ["csrf_token": agencyCSRF]).status == .forbidden)
            #expect(try await agencyAdmin.request(.get, "/console/callouts/\(callout)").status == .notFound)
        }
    }
}

/// Webhook endpoints and deliveries in the settings: the REST API's outbound policy, the secret once, replay.
extension ConsoleTests {
    @Test func adminsKeepWebhooksAndReplayDeliveries() async throws {
        let (account, _) = try await api.account()
        let (other, _) = try await api.account()
        try await api.test { client in
            var (admin, csrf) = try await signedIn(.admin, account: account.id, client: client)
            let refused = try await admin.request(.post, "/console/settings/webhooks", form: ["csrf_token": csrf, "url": "http://10.0.0.1/hook"])
            #expect(refused.status == .unprocessableContent, "a private address is refused as by the REST API")
            let made = String(
                buffer: try await admin.request(
                    .post, "/console/settings/webhooks",
                    form: ["csrf_token": csrf, "url": "https://93.184.216.34/hook", "type_callout.finished": "yes"]
                ).body)
            let secret = try #require(
                made.range(of: #"<code id="notice-webhook-secret">"#).map { String(made[$0.upperBound...].prefix { $0 != "<" }) })
            let settingsPage = String(buffer: try await admin.request(.get, "/console/settings").body)
            #expect(!secret.isEmpty && !settingsPage.contains(secret))
            let endpoint = try await api.database.query(
                "SELECT id, event_types FROM webhook_endpoints WHERE account_id = \(account.id)", logger: api.logger
            ).single { try $0.decode((Int64, [String]).self) }
            #expect(endpoint.1 == ["callout.finished"])
            let delivery = try await api.database.query(
                """
                INSERT INTO webhook_deliveries (account_id, webhook_endpoint_id, event_type, event_key, payload, status, attempts)
                VALUES (\(account.id), \(endpoint.0), 'phone_call.completed', 'console-replay', '{}', 'failed', 10) RETURNING id
                """, logger: api.logger
            ).single { try $0.decode(Int64.self) }
            var (foreign, foreignCSRF) = try await signedIn(.admin, account: other.id, client: client)
            #expect(
                try await foreign.request(.post, "/console/settings/deliveries/\(delivery)/replay", form: ["csrf_token": foreignCSRF]).status
                    == .notFound)
            #expect(
                try await foreign.request(.post, "/console/settings/webhooks/\(endpoint.0)/delete", form: ["csrf_token": foreignCSRF]).status
                    == .notFound)
            #expect(try await admin.request(.post, "/console/settings/deliveries/\(delivery)/replay", form: ["csrf_token": csrf]).status == .seeOther)
            let status = try await api.database.query("SELECT status, attempts FROM webhook_deliveries WHERE id = \(delivery)", logger: api.logger)
                .single { try $0.decode((String, Int).self) }
            #expect(status.0 == "pending" && status.1 == 0)
            #expect(try await admin.request(.post, "/console/settings/webhooks/\(endpoint.0)/delete", form: ["csrf_token": csrf]).status == .seeOther)
            let left = try await api.database.query("SELECT count(*) FROM webhook_endpoints WHERE account_id = \(account.id)", logger: api.logger)
                .single { try $0.decode(Int64.self) }
            #expect(left == 0)
        }
    }
}
