import Foundation
import PostgresNIO

/// Where the database is, from `DATABASE_URL` (`postgres://user:password@host:port/name?sslmode=require`).
public struct DatabaseConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var requireTLS: Bool
    public var maximumConnections: Int

    public static let defaultURL = "postgres://postgres@127.0.0.1:5433/scfm"

    public init(
        host: String, port: Int = 5432, username: String, password: String? = nil, database: String,
        requireTLS: Bool = false, maximumConnections: Int = 20
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.requireTLS = requireTLS
        self.maximumConnections = maximumConnections
    }

    public struct InvalidURL: Error, CustomStringConvertible {
        public let url: String
        public var description: String { "DATABASE_URL is not a postgres:// URL: \(url)" }
    }

    public init(url: String, maximumConnections: Int = 20) throws {
        guard let components = URLComponents(string: url),
            ["postgres", "postgresql"].contains(components.scheme ?? ""),
            let host = components.host, !host.isEmpty
        else { throw InvalidURL(url: url) }
        let database = String(components.path.drop(while: { $0 == "/" }))
        let sslMode = components.queryItems?.first(where: { $0.name == "sslmode" })?.value
        self.init(
            host: host,
            port: components.port ?? 5432,
            username: components.user ?? "postgres",
            password: components.password,
            database: database.isEmpty ? "postgres" : database,
            requireTLS: ["require", "verify-ca", "verify-full"].contains(sslMode ?? ""),
            maximumConnections: maximumConnections
        )
    }

    /// From `DATABASE_URL` and `DATABASE_POOL_SIZE` (or the given pool size, for one-shot commands).
    public init(environment: EnvironmentVariables, maximumConnections: Int? = nil) throws {
        try self.init(
            url: environment.string("DATABASE_URL", default: Self.defaultURL),
            maximumConnections: maximumConnections
                ?? environment.integer("DATABASE_POOL_SIZE", default: 20, range: 1...1000))
    }

    /// The same server, another database: tests create one database per suite.
    public func with(database: String) -> DatabaseConfiguration {
        var copy = self
        copy.database = database
        return copy
    }

    public var clientConfiguration: PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database,
            tls: requireTLS ? .require(.clientDefault) : .disable
        )
        configuration.options.maximumConnections = maximumConnections
        return configuration
    }
}
