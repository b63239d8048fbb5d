import Shared
import Testing

/// The outbound policy's judgement of tenant URLs and addresses (no network but the resolver's `localhost`).
@Suite(.timeLimit(.minutes(2))) struct OutboundPolicyTests {
    let production = OutboundPolicy()

    @Test(arguments: [
        "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://[fd00::1]/", "http://100.64.0.1/",
        "http://127.0.0.1:9090/metrics", "http://127.1/", "http://0.0.0.0/", "http://192.168.1.1/", "http://172.31.255.255/",
        "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:a9fe:a9fe]/", "http://[64:ff9b::a9fe:a9fe]/",
        "http://[2002:7f00:1::]/", "http://[fe80::1]/", "http://[ff02::1]/", "http://224.0.0.1/", "http://255.255.255.255/",
        "http://localhost:3000/", "http://api.localhost/", "http://198.18.0.1/", "http://[2001:db8::1]/", "http://2130706433/",
        "http://0x7f.1/",
    ])
    func internalAddressesAreRefused(url: String) {
        #expect(throws: OutboundPolicy.Refusal.self) { try production.check(url: url) }
        #expect(throws: Never.self) { try OutboundPolicy(allowPrivateAddresses: true).check(url: url) }
    }

    @Test(arguments: [
        "https://example.org/hooks", "http://93.184.216.34/hook", "https://[2606:2800:220:1:248:1893:25c8:1946]/x",
        "https://hooks.example.com:8443/a?b=c", "http://8.8.8.8/", "http://172.32.0.1/", "http://100.128.0.1/",
    ])
    func publicURLsAreAllowed(url: String) throws {
        let target = try production.check(url: url)
        #expect(target.scheme == "http" || target.scheme == "https")
    }

    @Test func formsThatHideTheHostOrAreNotHTTPAreRefused() {
        for url in ["ftp://example.org/", "file:///etc/passwd", "gopher://example.org/", "example.org/hook", "http:///nohost", ""] {
            #expect(throws: OutboundPolicy.Refusal.notHTTP, "\(url)") { try production.check(url: url) }
        }
        #expect(throws: OutboundPolicy.Refusal.userInformation) { try production.check(url: "http://user:pw@example.org/") }
        #expect(throws: OutboundPolicy.Refusal.notHTTP) { try production.check(url: "http://example.org/" + String(repeating: "a", count: 3000)) }
    }

    /// A name is judged by what it resolves to at request time: `localhost` by name (through the resolver,
    /// as any name that resolves to loopback would be), refused; an unknown name is unresolvable.
    @Test func namesAreJudgedByTheirResolvedAddresses() async throws {
        let target = OutboundPolicy.Target(scheme: "http", host: "localhost", port: 80)
        await #expect(throws: OutboundPolicy.Refusal.self) { try await production.resolve(target) }
        let allowed = try await OutboundPolicy(allowPrivateAddresses: true).resolve(target)
        #expect(allowed == "127.0.0.1" || allowed == "::1")
        let unknown = OutboundPolicy.Target(scheme: "http", host: "no-such-host.invalid", port: 80)
        await #expect(throws: OutboundPolicy.Refusal.unresolvable("no-such-host.invalid")) { try await production.resolve(unknown) }
    }
}
