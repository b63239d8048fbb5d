import Foundation
import Logging
import PostgresNIO

/// An account's webhook endpoints and their deliveries.
public struct WebhookRepository: Sendable {
    let client: PostgresClient
    let logger: Logger
    /// Where endpoints may point (`OUTBOUND_ALLOW_PRIVATE_ADDRESSES`).
    let outbound: OutboundPolicy
    /// Seals each endpoint's secret before it is written (`SECRETS_KEY`).
    let secrets: SecretBox?
    /// At most `webhookEndpoints` per account.
    let limits: AccountLimits

    public init(
        client: PostgresClient, logger: Logger, outbound: OutboundPolicy = OutboundPolicy(), secrets: SecretBox? = nil,
        limits: AccountLimits = AccountLimits()
    ) {
        self.client = client
        self.logger = logger
        self.outbound = outbound
        self.secrets = secrets
        self.limits = limits
    }

    /// An absolute http(s) URL with a host the outbound policy allows: an address literal or a name that
    /// resolves to an internal address is refused now (a name that does not resolve yet is accepted; every
    /// delivery checks it again, `OutboundHTTPClients`).
    func validate(url: String?) async throws(ValidationErrors) -> String {
        guard let url, !url.isEmpty else { throw ValidationErrors("url", ValidationErrors.blank) }
        do {
            let target = try outbound.check(url: url)
            _ = try await outbound.resolve(target)
        } catch .unresolvable {
            return url
        } catch {
            throw ValidationErrors("url", error.description)
        }
        return url
    }

    static func validate(eventTypes: [String]?) throws(ValidationErrors) -> [String]? {
        guard let eventTypes else { return nil }
        let known = WebhookEventType.allCases.map(\.rawValue)
        guard !eventTypes.isEmpty, eventTypes.allSatisfy(known.contains) else {
            throw ValidationErrors("event_types", "must list some of \(known.joined(separator: ", "))")
        }
        return Array(Set(eventTypes)).sorted()
    }

    public func createEndpoint(
        accountID: Int64, url: String?, eventTypes: [String]?, enabled: Bool?, metadata: JSONValue?
    ) async throws -> WebhookEndpoint {
        var errors = ValidationErrors()
        var checkedURL = ""
        var checkedTypes: [String]?
        // Both checked, so that a request wrong in both hears of both.
        do { checkedURL = try await validate(url: url) } catch { errors.add(error) }
        do { checkedTypes = try Self.validate(eventTypes: eventTypes) } catch { errors.add(error) }
        try errors.throwIfAny()
        let secret = WebhookSignature.newSecret()
        let sealed = try secrets.seal(secret, for: .webhookSecret).stored
        let types = checkedTypes ?? WebhookEventType.allCases.map(\.rawValue)
        let limit = limits.webhookEndpoints
        var endpoint = try await client.transaction(logger: logger) { [logger] connection in
            try await AccountLimits.check(
                limit, accountID: accountID, on: connection, logger: logger,
                error: "An account can have at most \(limit) webhook endpoints",
                count: "SELECT count(*) FROM webhook_endpoints WHERE account_id = \(accountID)")
            return try await connection.query(
                """
                INSERT INTO webhook_endpoints (account_id, url, secret, event_types, enabled, metadata)
                VALUES (\(accountID), \(checkedURL), \(sealed), \(types), \(enabled ?? true), \(metadata ?? .emptyObject))
                RETURNING \(unescaped: WebhookEndpoint.columns.text)
                """, logger: logger
            ).single(WebhookEndpoint.init(row:))
        }
        endpoint.secret = secret
        return endpoint
    }

    public func findEndpoint(accountID: Int64, id: Int64) async throws -> WebhookEndpoint {
        try await Self.endpoints.find(client, logger: logger, accountID: accountID, id: id)
    }

    public func updateEndpoint(
        accountID: Int64, id: Int64, url: String?, eventTypes: [String]?, enabled: Bool?, metadata: JSONValue?, mergeMode: MetadataMergeMode
    ) async throws {
        var statement = UpdateStatement("webhook_endpoints")
        if let url { statement.set("url", try await validate(url: url)) }
        if let types = try Self.validate(eventTypes: eventTypes) { statement.set("event_types", types) }
        if let enabled { statement.set("enabled", enabled) }
        statement.setMetadata("metadata", metadata, mode: mergeMode)
        try await client.withConnection { try await statement.run(on: $0, logger: logger, id: id, accountID: accountID) }
    }

    /// Deletes the endpoint and its deliveries.
    public func deleteEndpoint(accountID: Int64, id: Int64) async throws {
        _ = try await client.query(
            "DELETE FROM webhook_endpoints WHERE id = \(id) AND account_id = \(accountID) RETURNING id", logger: logger
        ).single { try $0.decode(Int64.self) }
    }

    public func endpointIndex(accountID: Int64, filter: RecordFilter, page: PageRequest) async throws -> Page<WebhookEndpoint> {
        try await Self.endpoints.index(client, logger: logger, accountID: accountID, filter: filter, page: page)
    }

    public func findDelivery(accountID: Int64, id: Int64) async throws -> WebhookDelivery {
        try await Self.deliveries.find(client, logger: logger, accountID: accountID, id: id)
    }

    public func deliveryIndex(accountID: Int64, filter: RecordFilter, page: PageRequest) async throws -> Page<WebhookDelivery> {
        try await Self.deliveries.index(client, logger: logger, accountID: accountID, filter: filter, page: page)
    }

    /// Sends the delivery again (whatever became of it): pending now, its attempts counted afresh.
    public func replay(accountID: Int64, id: Int64) async throws -> WebhookDelivery {
        try await client.query(
            """
            UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(), delivered_at = NULL, updated_at = now()
            WHERE id = \(id) AND account_id = \(accountID)
            RETURNING \(unescaped: WebhookDelivery.columns.text)
            """, logger: logger
        ).single(WebhookDelivery.init(row:))
    }

    static let endpoints = RecordTable<WebhookEndpoint>(
        from: "webhook_endpoints w", columns: WebhookEndpoint.columns, accountColumn: "w.account_id", idColumn: "w.id",
        decode: WebhookEndpoint.init(row:))
    static let deliveries = RecordTable<WebhookDelivery>(
        from: "webhook_deliveries w", columns: WebhookDelivery.columns, accountColumn: "w.account_id", idColumn: "w.id",
        decode: WebhookDelivery.init(row:))
}

extension RecordFilter {
    /// Webhook deliveries (alias `w`).
    public static func webhookDeliveries(_ values: JSONObject, prefix: String = "q") throws(FilterError) -> RecordFilter {
        let parameters = FilterParameters(values, prefix: prefix)
        var filter = RecordFilter()
        try filter.appendInteger(parameters, "webhook_endpoint_id", column: "w.webhook_endpoint_id")
        try filter.appendList(parameters, "status", column: "w.status", allowed: ["pending", "delivered", "failed"])
        try filter.appendList(parameters, "event_type", column: "w.event_type", allowed: WebhookEventType.allCases.map(\.rawValue))
        try filter.appendCreatedAndUpdated(parameters, created: "w.created_at", updated: "w.updated_at")
        return filter
    }

    /// Webhook endpoints (alias `w`).
    public static func webhookEndpoints(_ values: JSONObject, prefix: String = "q") throws(FilterError) -> RecordFilter {
        let parameters = FilterParameters(values, prefix: prefix)
        var filter = RecordFilter()
        filter.append(try parameters.containment("metadata", column: "w.metadata"))
        if let enabled = try parameters.boolean("enabled") { filter.append(.predicate(enabled ? "w.enabled" : "NOT w.enabled")) }
        try filter.appendCreatedAndUpdated(parameters, created: "w.created_at", updated: "w.updated_at")
        return filter
    }
}
