import PostgresNIO

/// Where and as whom an account dials: its provider, REST base URL and credentials, and its dialling limits.
/// The account's own columns win; what they leave out comes from the environment defaults
/// (`PLATFORM_PROVIDER`, `TWILIO_*`, `SOMLENG_*`, `MAX_CALLS_PER_SECOND`), as in SCFM.
public struct ProviderAccount: Sendable, Equatable {
    public enum Platform: String, Sendable { case twilio, somleng }

    public var platform: Platform
    public var baseURL: String
    public var accountSID: String
    public var authToken: String
    /// Dials per second across every queue worker (`settings.max_calls_per_second`).
    public var maxCallsPerSecond: Double
    /// Calls between dial and final status at once (`settings.max_concurrent_calls`); nil for no cap.
    public var maxConcurrentCalls: Int?

    public init(
        platform: Platform, baseURL: String, accountSID: String, authToken: String, maxCallsPerSecond: Double,
        maxConcurrentCalls: Int? = nil
    ) {
        self.platform = platform
        self.baseURL = baseURL
        self.accountSID = accountSID
        self.authToken = authToken
        self.maxCallsPerSecond = maxCallsPerSecond
        self.maxConcurrentCalls = maxConcurrentCalls
    }
}

/// The environment's provider defaults, read once per process.
public struct ProviderDefaults: Sendable {
    public static let twilioBaseURL = "https://api.twilio.com"

    public var platform: ProviderAccount.Platform
    public var twilioAccountSID: String
    public var twilioAuthToken: String
    public var twilioBaseURL: String
    public var somlengAccountSID: String
    public var somlengAuthToken: String
    public var somlengBaseURL: String
    public var maxCallsPerSecond: Double
    public var maxConcurrentCalls: Int?

    public init(environment: EnvironmentVariables) throws {
        platform = ProviderAccount.Platform(rawValue: try environment.oneOf("PLATFORM_PROVIDER", ["twilio", "somleng"], default: "twilio"))!
        twilioAccountSID = environment.string("TWILIO_ACCOUNT_SID", default: "")
        twilioAuthToken = environment.string("TWILIO_AUTH_TOKEN", default: "")
        // Not a seed name: lets local mode and tests point Twilio accounts at the fake provider.
        twilioBaseURL = environment.string("TWILIO_REST_API_BASE_URL", default: Self.twilioBaseURL)
        somlengAccountSID = environment.string("SOMLENG_ACCOUNT_SID", default: "")
        somlengAuthToken = environment.string("SOMLENG_AUTH_TOKEN", default: "")
        somlengBaseURL = environment.string("SOMLENG_CLIENT_REST_API_BASE_URL", default: Self.twilioBaseURL)
        maxCallsPerSecond = Double(try environment.integer("MAX_CALLS_PER_SECOND", default: 10, range: 1...100_000))
        let cap = try environment.integer("MAX_CONCURRENT_CALLS", default: 0, range: 0...10_000_000)
        maxConcurrentCalls = cap == 0 ? nil : cap
    }

    public init(
        platform: ProviderAccount.Platform = .twilio, baseURL: String, accountSID: String = "AC-default",
        authToken: String = "token", maxCallsPerSecond: Double = 10
    ) {
        self.platform = platform
        twilioAccountSID = accountSID
        twilioAuthToken = authToken
        twilioBaseURL = baseURL
        somlengAccountSID = accountSID
        somlengAuthToken = authToken
        somlengBaseURL = baseURL
        self.maxCallsPerSecond = maxCallsPerSecond
        maxConcurrentCalls = nil
    }

    /// The account's provider: its `platform_provider_name` or the default; each credential from the account
    /// when it has one (opened with `secrets`), else from the environment.
    public func resolve(_ account: Account, secrets: SecretBox?) throws -> ProviderAccount {
        let platform = account.platformProviderName.flatMap(ProviderAccount.Platform.init(rawValue:)) ?? self.platform
        let rate = account.settings["max_calls_per_second"].flatMap(Self.positiveNumber) ?? maxCallsPerSecond
        let cap = account.settings["max_concurrent_calls"].flatMap(Self.positiveNumber).map { Int($0) } ?? maxConcurrentCalls
        switch platform {
        case .twilio:
            return ProviderAccount(
                platform: .twilio, baseURL: twilioBaseURL, accountSID: account.twilioAccountSID ?? twilioAccountSID,
                authToken: try account.twilioAuthToken.map { try secrets.open($0, for: .twilioAuthToken) } ?? twilioAuthToken,
                maxCallsPerSecond: rate, maxConcurrentCalls: cap)
        case .somleng:
            return ProviderAccount(
                platform: .somleng, baseURL: somlengBaseURL, accountSID: account.somlengAccountSID ?? somlengAccountSID,
                authToken: try account.somlengAuthToken.map { try secrets.open($0, for: .somlengAuthToken) } ?? somlengAuthToken,
                maxCallsPerSecond: rate, maxConcurrentCalls: cap)
        }
    }

    /// Settings come from clients as JSON numbers or form strings ("50").
    static func positiveNumber(_ value: JSONValue) -> Double? {
        let number: Double? =
            switch value {
            case .integer(let integer): Double(integer)
            case .number(let double): double
            case .string(let text): Double(text)
            default: nil
            }
        guard let number, number > 0, number.isFinite else { return nil }
        return number
    }
}

/// An account's own provider credentials (its columns), before the environment's defaults fill the gaps.
public struct ProviderCredentials: Sendable, Equatable {
    public var twilioAccountSID: String?
    public var twilioAuthToken: String?
    public var somlengAccountSID: String?
    public var somlengAuthToken: String?

    public init(twilioAccountSID: String? = nil, twilioAuthToken: String? = nil, somlengAccountSID: String? = nil, somlengAuthToken: String? = nil) {
        self.twilioAccountSID = twilioAccountSID
        self.twilioAuthToken = twilioAuthToken
        self.somlengAccountSID = somlengAccountSID
        self.somlengAuthToken = somlengAuthToken
    }

    /// The four credential columns, in table order, starting at column `offset` of a row; the tokens opened
    /// with `secrets`.
    init(row: PostgresRow, offset: Int, secrets: SecretBox?) throws {
        let columns = row.makeRandomAccess()
        twilioAccountSID = try columns[offset].decode(String?.self)
        twilioAuthToken = try columns[offset + 1].decode(String?.self).map { try secrets.open(SealedSecret(stored: $0), for: .twilioAuthToken) }
        somlengAccountSID = try columns[offset + 2].decode(String?.self)
        somlengAuthToken = try columns[offset + 3].decode(String?.self).map { try secrets.open(SealedSecret(stored: $0), for: .somlengAuthToken) }
    }
}

extension ProviderDefaults {
    /// The auth token the provider signs an account's requests with when they carry `AccountSid` = `sid`:
    /// the Twilio or Somleng credentials (the account's own, else the environment's) whose sid it is.
    public func authToken(forProviderAccountSID sid: String, of credentials: ProviderCredentials) -> String? {
        let candidates = [
            (credentials.twilioAccountSID ?? twilioAccountSID, credentials.twilioAuthToken ?? twilioAuthToken),
            (credentials.somlengAccountSID ?? somlengAccountSID, credentials.somlengAuthToken ?? somlengAuthToken),
        ]
        return candidates.first { $0.0 == sid && !$0.1.isEmpty }?.1
    }
}
