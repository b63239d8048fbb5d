import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import Shared
import TestSupport

@testable import API

/// The API wired to the suite's own database, driven in-process through Hummingbird's router test client.
struct TestAPI {
    let database: PostgresClient
    let logger = Logger(label: "scfm.tests")

    /// The test process's `SECRETS_KEY`: every API under test seals with it unless a test brings its own.
    static let secretsKey = try! SecretsKey(base64: SecretsKey.generate())
    static var secrets: SecretBox { SecretBox(secretsKey: secretsKey) }

    static func make(suite: String) async throws -> TestAPI {
        TestAPI(database: try await TestDatabases.shared.client(suite: suite))
    }

    func test(
        brokerProbe: KafkaBrokerProbe? = nil, settings: APISettings = APISettings(),
        _ body: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        var dependencies = APIDependencies(database: database, brokerProbe: brokerProbe, logger: logger)
        dependencies.settings = settings
        if dependencies.settings.secrets == nil { dependencies.settings.secrets = Self.secrets }
        let app = Application(router: buildRouter(dependencies), logger: logger)
        try await app.test(.router, body)
    }

    /// A new account with a working access token.
    func account(superAdmin: Bool = false) async throws -> (account: Account, token: String) {
        var changes = AccountChanges()
        if superAdmin { changes.permissions = [Account.superAdminPermission] }
        let account = try await AccountRepository(client: database, logger: logger).create(changes)
        let token = try await AccessTokenRepository(client: database, logger: logger)
            .create(accountID: account.id, createdBy: nil).secret
        return (account, token)
    }

    func execute(_ sql: PostgresQuery) async throws {
        try await database.query(sql, logger: logger)
    }
}

extension TestClientProtocol {
    /// A request authenticated the way the seeds' curl examples do it (`-u $TOKEN:`), with an optional
    /// form-encoded or JSON body.
    func request(
        _ method: HTTPRequest.Method, _ uri: String, token: String?, form: String? = nil, json: String? = nil,
        headers extraHeaders: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = extraHeaders
        if let token {
            headers[.authorization] = "Basic " + Data("\(token):".utf8).base64EncodedString()
        }
        var body: ByteBuffer?
        if let form {
            headers[.contentType] = "application/x-www-form-urlencoded"
            body = ByteBuffer(string: form)
        } else if let json {
            headers[.contentType] = "application/json"
            body = ByteBuffer(string: json)
        }
        return try await execute(uri: uri, method: method, headers: headers, body: body)
    }
}

extension TestResponse {
    var json: JSONValue {
        get throws { try JSONParser.parse(Array(body.readableBytesView)) }
    }

    var text: String { String(buffer: body) }
}

extension HTTPField.Name {
    static let perPageHeader = Self("Per-Page")!
    static let totalHeader = Self("Total")!
    static let linkHeader = Self("Link")!
}
