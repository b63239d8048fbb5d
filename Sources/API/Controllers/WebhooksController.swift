import HTTPTypes
import Hummingbird
import PostgresNIO
import Shared

/// `/api/webhook_endpoints` and `/api/webhook_deliveries`: where the caller's account receives its result
/// events, and what was sent there (with replay).
struct WebhooksController {
    let webhooks: WebhookRepository
    let database: PostgresClient

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.post("webhook_endpoints", use: createEndpoint)
        group.get("webhook_endpoints", use: endpointIndex)
        MemberRoutes.add(
            to: group, collection: "webhook_endpoints",
            find: { [webhooks] in try await webhooks.findEndpoint(accountID: $0, id: $1).json },
            update: { [webhooks] accountID, id, parameters in
                try await webhooks.updateEndpoint(
                    accountID: accountID, id: id, url: try parameters.string("url"), eventTypes: try parameters.stringArray("event_types"),
                    enabled: try parameters.boolean("enabled"), metadata: try parameters.object("metadata"), mergeMode: try parameters.mergeMode())
            },
            delete: { [webhooks] in try await webhooks.deleteEndpoint(accountID: $0, id: $1) })
        group.get("webhook_deliveries", use: deliveryIndex)
        MemberRoutes.add(
            to: group, collection: "webhook_deliveries",
            find: { [webhooks] in try await webhooks.findDelivery(accountID: $0, id: $1).json }, update: nil, delete: nil)
        group.post("webhook_deliveries/:id/replay", use: replay)
    }

    @Sendable func createEndpoint(_ request: Request, context: APIRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        let parameters = try await RequestParameters.parse(request)
        let endpoint = try await webhooks.createEndpoint(
            accountID: account.id, url: try parameters.string("url"), eventTypes: try parameters.stringArray("event_types"),
            enabled: try parameters.boolean("enabled"), metadata: try parameters.object("metadata"))
        return JSONResponse.created(endpoint.jsonWithSecret, location: Location.url(request, path: "/api/webhook_endpoints/\(endpoint.id)"))
    }

    @Sendable func endpointIndex(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await IndexResponse.respond(
            request, context: context, scope: nil, database: database,
            parseFilter: { q throws(FilterError) in try .webhookEndpoints(q) },
            index: { try await webhooks.endpointIndex(accountID: $0, filter: $1, page: $2) }, render: \.json)
    }

    @Sendable func deliveryIndex(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await IndexResponse.respond(
            request, context: context, scope: nil, database: database,
            parseFilter: { q throws(FilterError) in try .webhookDeliveries(q) },
            index: { try await webhooks.deliveryIndex(accountID: $0, filter: $1, page: $2) }, render: \.json)
    }

    @Sendable func replay(_ request: Request, context: APIRequestContext) async throws -> Response {
        let account = try context.requireAccount()
        let delivery = try await webhooks.replay(accountID: account.id, id: try context.recordID())
        return JSONResponse.make(.ok, delivery.json)
    }
}
