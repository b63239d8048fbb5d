import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a request to a tenant-given URL may go. Every tenant URL this platform itself requests (webhook
/// endpoints) is checked twice: when it is saved (`check(url:)`, a 422 for a URL that can never be allowed) and
/// when it is requested (`resolve(_:)`): the host's addresses are looked up, every one must be public, and
/// the connection is made to the checked address (`OutboundHTTPClients`), so a name that resolves elsewhere a
/// second later (DNS rebinding) is never followed. Redirects are never followed.
///
/// Refused unless `allowPrivateAddresses` (`OUTBOUND_ALLOW_PRIVATE_ADDRESSES`, for `make run`'s local
/// receivers only): loopback, "this network", private (RFC 1918), carrier-grade NAT (100.64/10), link-local
/// (with the cloud metadata address 169.254.169.254), IETF protocol assignments, benchmarking, documentation
/// ranges, multicast, reserved and broadcast; in IPv6 the unspecified and loopback addresses, unique-local
/// (fc00::/7), link-local (fe80::/10), multicast, documentation, discard-only, and every form that embeds an
/// IPv4 address (mapped, NAT64, 6to4, IPv4-compatible), judged by the embedded address. URLs with user
/// information are refused everywhere (they hide the real host from a reader).
public struct OutboundPolicy: Sendable, Equatable {
    public var allowPrivateAddresses: Bool

    public init(allowPrivateAddresses: Bool = false) {
        self.allowPrivateAddresses = allowPrivateAddresses
    }

    /// `OUTBOUND_ALLOW_PRIVATE_ADDRESSES` (false).
    public init(environment: EnvironmentVariables) throws {
        allowPrivateAddresses = try environment.boolean("OUTBOUND_ALLOW_PRIVATE_ADDRESSES", default: false)
    }

    /// A URL checked for its form: scheme, host, port.
    public struct Target: Sendable, Equatable {
        public let scheme: String
        /// Lowercased, without the brackets of an IPv6 literal.
        public let host: String
        public let port: Int

        public init(scheme: String, host: String, port: Int) {
            self.scheme = scheme
            self.host = host
            self.port = port
        }
    }

    public enum Refusal: Error, Equatable, CustomStringConvertible {
        case notHTTP
        case userInformation
        case address(String)
        case unresolvable(String)

        public var description: String {
            switch self {
            case .notHTTP: "must be an http or https URL"
            case .userInformation: "must not contain a user name or password"
            case .address(let address): "must not point at a private, loopback, link-local or reserved address (\(address))"
            case .unresolvable(let host): "host \(host) could not be resolved"
            }
        }
    }

    /// The URL's form, and its host when that is an address literal: what can be judged without a lookup.
    public func check(url: String) throws(Refusal) -> Target {
        guard url.utf8.count <= 2048, let components = URLComponents(string: url),
            let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            var host = components.host?.lowercased(), !host.isEmpty
        else { throw .notHTTP }
        if components.user != nil || components.password != nil { throw .userInformation }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        guard (1...65535).contains(port) else { throw .notHTTP }
        if !allowPrivateAddresses {
            if host == "localhost" || host.hasSuffix(".localhost") { throw .address(host) }
            if let bytes = Self.addressBytes(host), !Self.isPublic(bytes) { throw .address(host) }
        }
        return Target(scheme: scheme, host: host, port: port)
    }

    /// The address to connect to for `target`: the first of its host's addresses, when every one is allowed.
    /// The lookup runs on a thread of its own (getaddrinfo blocks).
    public func resolve(_ target: Target) async throws(Refusal) -> String {
        if let bytes = Self.addressBytes(target.host) {
            if !allowPrivateAddresses && !Self.isPublic(bytes) { throw .address(target.host) }
            return target.host
        }
        let host = target.host
        let addresses: [[UInt8]] = await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: Self.lookUp(host)) }
        }
        guard let first = addresses.first else { throw .unresolvable(host) }
        if !allowPrivateAddresses, let refused = addresses.first(where: { !Self.isPublic($0) }) {
            throw .address(Self.text(refused))
        }
        return Self.text(first)
    }

    // MARK: - Addresses

    /// The 4 or 16 bytes of an address literal, nil for a name. IPv4 in every form the resolver accepts
    /// (`127.1`, `0x7f.0.0.1`, `2130706433`), so a shorthand cannot pass for a name.
    public static func addressBytes(_ host: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_aton(host, &v4) != 0 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    static func text(_ bytes: [UInt8]) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        let written = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
        guard written != nil else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether an address (4 or 16 bytes) is one the public internet routes to.
    public static func isPublic(_ bytes: [UInt8]) -> Bool {
        if bytes.count == 4 { return isPublicV4(bytes) }
        guard bytes.count == 16 else { return false }
        let b = bytes
        let firstWordsZero = b[0..<10].allSatisfy { $0 == 0 }
        // IPv4-mapped ::ffff:a.b.c.d and IPv4-compatible ::a.b.c.d (and :: and ::1 among them).
        if firstWordsZero && b[10] == 0xff && b[11] == 0xff { return isPublicV4(Array(b[12..<16])) }
        if firstWordsZero && b[10] == 0 && b[11] == 0 { return false }
        // NAT64 64:ff9b::/96 and 64:ff9b:1::/48: judged by the IPv4 address they carry.
        if b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b { return isPublicV4(Array(b[12..<16])) }
        // 6to4 2002::/16 carries an IPv4 address in bytes 2–5.
        if b[0] == 0x20 && b[1] == 0x02 { return isPublicV4(Array(b[2..<6])) }
        // Teredo 2001::/32 (its client address is obfuscated): refused.
        if b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0 { return false }
        // Documentation 2001:db8::/32.
        if b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8 { return false }
        // Discard-only 100::/64.
        if b[0] == 0x01 && b[1] == 0x00 && b[2..<8].allSatisfy({ $0 == 0 }) { return false }
        // Unique-local fc00::/7, link-local fe80::/10, site-local fec0::/10, multicast ff00::/8.
        if b[0] & 0xfe == 0xfc || b[0] == 0xfe || b[0] == 0xff { return false }
        // Only global unicast 2000::/3 is routed on the internet.
        return b[0] & 0xe0 == 0x20
    }

    static func isPublicV4(_ b: [UInt8]) -> Bool {
        switch (b[0], b[1], b[2]) {
        case (0, _, _), (10, _, _), (127, _, _): return false
        case (100, 64...127, _): return false  // carrier-grade NAT
        case (169, 254, _): return false  // link-local, the cloud metadata address
        case (172, 16...31, _), (192, 168, _): return false
        case (192, 0, 0), (192, 0, 2), (192, 88, 99), (198, 51, 100), (203, 0, 113): return false
        case (198, 18...19, _): return false  // benchmarking
        case (224...255, _, _): return false  // multicast, reserved, broadcast
        default: return true
        }
    }

    /// Every address of `host` (IPv4 and IPv6), as bytes.
    static func lookUp(_ host: String) -> [[UInt8]] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [[UInt8]] = []
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let info = next {
            if let address = info.pointee.ai_addr {
                switch Int32(address.pointee.sa_family) {
                case AF_INET:
                    address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { v4 in
                        var raw = v4.pointee.sin_addr
                        addresses.append(withUnsafeBytes(of: &raw) { Array($0) })
                    }
                case AF_INET6:
                    address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { v6 in
                        var raw = v6.pointee.sin6_addr
                        addresses.append(withUnsafeBytes(of: &raw) { Array($0) })
                    }
                default: break
                }
            }
            next = info.pointee.ai_next
        }
        var seen = Set<[UInt8]>()
        return addresses.filter { seen.insert($0).inserted }
    }
}
