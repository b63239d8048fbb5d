import Shared

/// The OpenAPI 3.1 description of the whole REST API, served at `/api/openapi.json`. `make fuzz` runs
/// schemathesis against a running API with it, so a route, status or field that drifts from it fails there.
enum OpenAPIDocument {
    typealias Filter = OpenAPIOperations.Filter
    typealias Op = OpenAPIOperations

    static let json: JSONValue = build()
    static let bytes: String = JSONSerializer.string(json)

    private static func build() -> JSONValue {
        var paths = Paths()
        addAccounts(&paths)
        addContacts(&paths)
        addCallouts(&paths)
        addDoNotCall(&paths)
        addWebhooks(&paths)
        addParticipations(&paths)
        addPhoneCalls(&paths)
        addRemoteEvents(&paths)
        addBatchOperations(&paths)
        addCalloutPopulations(&paths)
        addOperations(&paths)
        return [
            "openapi": "3.1.0",
            "info": [
                "title": "SCFM (Simple Call Flow Manager)",
                "version": "1.0.0",
                "description": """
                Somleng SCFM's REST API: accounts, access tokens, contacts, callouts, callout participations, \
                phone calls, remote phone call events and batch operations. Authenticate with an access \
                token as the HTTP basic user name and an empty password (`curl -u $TOKEN:`) or as a bearer \
                token. Indexes are paginated (`page`, `per_page`; `Per-Page`, `Total` and `Link` headers) \
                and filtered with `q[…]`. Request bodies are JSON or forms with Rails' bracket notation.
                """,
            ],
            "servers": [["url": "/"]],
            "security": [["accessToken": []], ["bearerToken": []]],
            "tags": .array(
                [
                    "Accounts", "Access tokens", "Contacts", "Callouts", "Callout participations", "Phone calls",
                    "Remote phone call events", "Batch operations", "Callout populations", "Operations",
                ].map { ["name": .string($0)] }),
            "paths": .object(paths.object),
            "components": [
                "securitySchemes": [
                    "accessToken": ["type": "http", "scheme": "basic", "description": "The access token as user name, empty password."],
                    "bearerToken": ["type": "http", "scheme": "bearer"],
                ],
                "schemas": .object(OpenAPISchemas.schemas),
                "responses": .object(OpenAPISchemas.responses),
                "headers": .object(OpenAPISchemas.headers),
                "parameters": .object(OpenAPISchemas.parameters),
            ],
        ]
    }

    /// Paths in the order they are added, each with its operations by method.
    struct Paths {
        var object = JSONObject()

        mutating func add(_ path: String, _ method: String, _ operation: JSONValue) {
            var item = object[path]?.objectValue ?? [:]
            item[method] = operation
            object[path] = .object(item)
        }

        /// GET, PATCH, PUT (and DELETE) of `/api/<collection>/{id}`.
        mutating func member(_ collection: String, tag: String, name: String, schema: String, body: String?, deletable: Bool) {
            let path = "/api/\(collection)/{id}"
            add(path, "get", Op.show(tag: tag, summary: "Fetch a \(name)", schema: schema))
            if let body {
                add(path, "patch", Op.update(tag: tag, summary: "Update a \(name)", body: body))
                add(path, "put", Op.update(tag: tag, summary: "Update a \(name)", body: body))
            }
            if deletable { add(path, "delete", Op.delete(tag: tag, summary: "Delete a \(name)")) }
        }

        mutating func nestedIndex(_ parents: [(collection: String, name: String)], _ child: String, tag: String, schema: String, filters: [Filter]) {
            for parent in parents {
                add(
                    "/api/\(parent.collection)/{id}/\(child)", "get",
                    Op.index(
                        tag: tag, summary: "List the \(child.replacingOccurrences(of: "_", with: " ")) of a \(parent.name)", schema: schema,
                        filters: filters, parentDescription: "The \(parent.name)'s id."))
            }
        }
    }

    static let contactFilters: [Filter] =
        [.hash("metadata"), .text("msisdn", "The contact's number (any format that normalizes to it).")] + Filter.timestamps
    static let calloutFilters: [Filter] =
        [
            .hash("metadata"), .list("status", CalloutStatus.allCases.map(\.rawValue), "Callout statuses, comma separated."),
            .text("call_flow_logic", "The call flow logic class name."),
        ] + Filter.timestamps
    static let participationFilters: [Filter] =
        [
            .hash("metadata"), .integer("callout_id", "The callout."), .integer("contact_id", "The contact."),
            .integer("callout_population_id", "The population that made it."), .text("msisdn", "The number."),
            .text("call_flow_logic", "The call flow logic class name."),
            .boolean("has_phone_calls", "Whether it has any phone call."), .boolean("no_phone_calls", "Whether it has none."),
            .list("last_phone_call_attempt", PhoneCallStatus.allCases.map(\.rawValue), "Statuses of its latest phone call."),
            .list("no_phone_calls_or_last_attempt", PhoneCallStatus.allCases.map(\.rawValue), "No phone call, or a latest one in these statuses."),
            .list("outcome", RecordFilter.participationOutcomes, "The autopilot's outcomes, comma separated (pending: none yet)."),
        ] + Filter.timestamps
    static let doNotCallFilters: [Filter] = [.hash("metadata"), .text("msisdn", "The number.")] + Filter.timestamps
    static let phoneCallFilters: [Filter] =
        [
            .hash("metadata"), .integer("callout_participation_id", "The participation."), .integer("contact_id", "The contact."),
            .integer("callout_id", "The callout."), .text("msisdn", "The number."),
            .list("status", PhoneCallStatus.allCases.map(\.rawValue), "Statuses, comma separated."),
            .text("call_flow_logic", "The call flow logic class name."), .text("remote_call_id", "The provider's call sid."),
            .list("remote_status", nil, "The provider's statuses, comma separated."), .text("remote_direction", "inbound or outbound-api."),
            .text("remote_error_message", "The provider's error."), .hash("remote_queue_response"), .hash("remote_response"),
            .hash("remote_request_params"),
        ]
        + ["before", "after", "or_before", "or_after"].map {
            Filter(name: "remotely_queued_at_\($0)", schema: ["type": "string"], description: "remotely_queued_at \($0).")
        } + Filter.timestamps
    static let remoteEventFilters: [Filter] =
        [
            .hash("details"), .hash("metadata"), .integer("phone_call_id", "The phone call."),
            .text("call_flow_logic", "The call flow logic class name."), .text("remote_call_id", "The provider's call sid."),
            .text("remote_direction", "inbound or outbound-api."),
        ] + Filter.timestamps
    static let batchOperationFilters: [Filter] =
        [
            .integer("callout_id", "The callout."),
            .list("type", BatchOperationType.allCases.map(\.rawValue), "Types, comma separated."),
            .list("status", BatchOperationStatus.allCases.map(\.rawValue), "Statuses, comma separated."),
            .hash("metadata"), .hash("parameters"),
        ] + Filter.timestamps

    static func addAccounts(_ paths: inout Paths) {
        paths.add(
            "/api/accounts", "post", Op.create(tag: "Accounts", summary: "Create an account (super-admin)", body: "AccountInput", schema: "Account"))
        paths.add("/api/accounts", "get", Op.index(tag: "Accounts", summary: "List accounts (super-admin)", schema: "Account", filters: []))
        paths.member("accounts", tag: "Accounts", name: "account (super-admin)", schema: "Account", body: "AccountInput", deletable: true)
        paths.add(
            "/api/access_tokens", "post",
            Op.create(tag: "Access tokens", summary: "Create an access token (super-admin)", body: "AccessTokenInput", schema: "AccessToken"))
        paths.add(
            "/api/access_tokens", "get",
            Op.index(
                tag: "Access tokens", summary: "List access tokens, masked, with last use (super-admin)", schema: "AccessTokenListing",
                filters: [.text("account_id", "One account's tokens.")]))
        paths.add(
            "/api/access_tokens/{id}", "get",
            Op.show(tag: "Access tokens", summary: "Fetch an access token, masked (super-admin)", schema: "AccessTokenListing"))
        paths.add("/api/access_tokens/{id}", "delete", Op.delete(tag: "Access tokens", summary: "Revoke an access token (super-admin)"))
    }

    static func addContacts(_ paths: inout Paths) {
        paths.add("/api/contacts", "post", Op.create(tag: "Contacts", summary: "Create a contact", body: "ContactInput", schema: "Contact"))
        paths.add("/api/contacts", "get", Op.index(tag: "Contacts", summary: "List contacts", schema: "Contact", filters: contactFilters))
        paths.member("contacts", tag: "Contacts", name: "contact", schema: "Contact", body: "ContactInput", deletable: true)
        paths.nestedIndex([("callouts", "callout")], "contacts", tag: "Contacts", schema: "Contact", filters: contactFilters)
    }

    static func addCallouts(_ paths: inout Paths) {
        paths.add("/api/callouts", "post", Op.create(tag: "Callouts", summary: "Create a callout", body: "CalloutInput", schema: "Callout"))
        paths.add("/api/callouts", "get", Op.index(tag: "Callouts", summary: "List callouts", schema: "Callout", filters: calloutFilters))
        paths.member("callouts", tag: "Callouts", name: "callout", schema: "Callout", body: "CalloutInput", deletable: true)
        paths.add(
            "/api/callouts/{id}/callout_events", "post",
            Op.event(
                tag: "Callouts", summary: "Start, pause, resume or stop a callout", events: CalloutEvent.allCases.map(\.rawValue),
                schema: "Callout"))
        var statistics = Op.show(tag: "Callouts", summary: "A callout's statistics", schema: "CalloutStatistics").objectValue!
        statistics["parameters"] = [Op.pathID("The callout's id.")]
        paths.add("/api/callouts/{id}/callout_statistics", "get", .object(statistics))
        var progress = Op.show(
            tag: "Callouts", summary: "A callout's live progress (autopilot), cheap enough to poll every second", schema: "CalloutProgress"
        ).objectValue!
        progress["parameters"] = [Op.pathID("The callout's id.")]
        paths.add("/api/callouts/{id}/callout_progress", "get", .object(progress))
    }

    static func addWebhooks(_ paths: inout Paths) {
        let tag = "Webhooks"
        paths.add(
            "/api/webhook_endpoints", "post",
            Op.create(
                tag: tag, summary: "Register an endpoint for result events (answers its signing secret, once)", body: "WebhookEndpointInput",
                schema: "WebhookEndpointWithSecret"))
        paths.add(
            "/api/webhook_endpoints", "get",
            Op.index(
                tag: tag, summary: "List webhook endpoints", schema: "WebhookEndpoint",
                filters: [.hash("metadata"), .boolean("enabled", "Whether it receives events.")] + Filter.timestamps))
        paths.member(
            "webhook_endpoints", tag: tag, name: "webhook endpoint", schema: "WebhookEndpoint", body: "WebhookEndpointInput", deletable: true)
        paths.add(
            "/api/webhook_deliveries", "get",
            Op.index(
                tag: tag, summary: "List webhook deliveries", schema: "WebhookDelivery",
                filters: [
                    .integer("webhook_endpoint_id", "The endpoint."),
                    .list("status", ["pending", "delivered", "failed"], "Statuses, comma separated."),
                    .list("event_type", WebhookEventType.allCases.map(\.rawValue), "Event types, comma separated."),
                ] + Filter.timestamps))
        paths.member("webhook_deliveries", tag: tag, name: "webhook delivery", schema: "WebhookDelivery", body: nil, deletable: false)
        var replay = Op.show(tag: tag, summary: "Send a delivery again (pending now, attempts counted afresh)", schema: "WebhookDelivery")
            .objectValue!
        replay["parameters"] = [Op.pathID("The delivery's id.")]
        paths.add("/api/webhook_deliveries/{id}/replay", "post", .object(replay))
    }

    static func addDoNotCall(_ paths: inout Paths) {
        let tag = "Do-not-call list"
        paths.add(
            "/api/do_not_call_entries", "post",
            Op.create(tag: tag, summary: "Add a number to the do-not-call list", body: "DoNotCallEntryInput", schema: "DoNotCallEntry"))
        paths.add(
            "/api/do_not_call_entries", "get",
            Op.index(tag: tag, summary: "List the do-not-call list", schema: "DoNotCallEntry", filters: doNotCallFilters))
        paths.member("do_not_call_entries", tag: tag, name: "do-not-call entry", schema: "DoNotCallEntry", body: "MetadataInput", deletable: true)
    }

    static func addParticipations(_ paths: inout Paths) {
        let tag = "Callout participations"
        paths.add(
            "/api/callouts/{id}/callout_participations", "post",
            Op.create(
                tag: tag, summary: "Add a contact to a callout", body: "CalloutParticipationInput", schema: "CalloutParticipation",
                parentDescription: "The callout's id."))
        paths.add(
            "/api/callout_participations", "get",
            Op.index(tag: tag, summary: "List callout participations", schema: "CalloutParticipation", filters: participationFilters))
        paths.nestedIndex(
            [("callouts", "callout"), ("contacts", "contact")], "callout_participations", tag: tag, schema: "CalloutParticipation",
            filters: participationFilters)
        paths.member(
            "callout_participations", tag: tag, name: "callout participation", schema: "CalloutParticipation",
            body: "CalloutParticipationInput", deletable: true)
    }

    static func addPhoneCalls(_ paths: inout Paths) {
        let tag = "Phone calls"
        paths.add(
            "/api/callout_participations/{id}/phone_calls", "post",
            Op.create(
                tag: tag, summary: "Create a phone call for a participation", body: "PhoneCallInput", schema: "PhoneCall",
                parentDescription: "The callout participation's id."))
        paths.add("/api/phone_calls", "get", Op.index(tag: tag, summary: "List phone calls", schema: "PhoneCall", filters: phoneCallFilters))
        paths.nestedIndex(
            [("callout_participations", "callout participation"), ("contacts", "contact"), ("callouts", "callout")], "phone_calls",
            tag: tag, schema: "PhoneCall", filters: phoneCallFilters)
        paths.member("phone_calls", tag: tag, name: "phone call", schema: "PhoneCall", body: "PhoneCallInput", deletable: true)
        paths.add(
            "/api/phone_calls/{id}/phone_call_events", "post",
            Op.event(
                tag: tag, summary: "Queue a phone call, or queue a fetch of its status", events: PhoneCallEvent.allCases.map(\.rawValue),
                schema: "PhoneCall"))
    }

    static func addRemoteEvents(_ paths: inout Paths) {
        let tag = "Remote phone call events"
        paths.add(
            "/api/remote_phone_call_events", "get",
            Op.index(tag: tag, summary: "List remote phone call events", schema: "RemotePhoneCallEvent", filters: remoteEventFilters))
        paths.nestedIndex(
            [
                ("phone_calls", "phone call"), ("callout_participations", "callout participation"), ("contacts", "contact"),
                ("callouts", "callout"),
            ], "remote_phone_call_events", tag: tag, schema: "RemotePhoneCallEvent", filters: remoteEventFilters)
        paths.member(
            "remote_phone_call_events", tag: tag, name: "remote phone call event", schema: "RemotePhoneCallEvent", body: "MetadataInput",
            deletable: false)
        paths.add("/api/remote_phone_call_events", "post", providerCallback)
    }

    /// The providers' status callbacks and call flow requests: signed, not token-authenticated, answered with TwiML.
    static var providerCallback: JSONValue {
        let form: JSONValue = [
            "type": "object", "required": ["CallSid", "AccountSid"],
            "properties": [
                "CallSid": ["type": "string"], "AccountSid": ["type": "string"], "From": ["type": "string"], "To": ["type": "string"],
                "CallStatus": ["type": "string"], "Direction": ["type": "string", "enum": ["inbound", "outbound-api", "outbound-dial"]],
                "CallDuration": ["type": "string"],
            ],
            "additionalProperties": ["type": "string"],
        ]
        return [
            "tags": ["Remote phone call events"],
            "summary": "A provider's status callback or call flow request (Twilio/Somleng webhook)",
            "description": """
            Authenticated by `X-Twilio-Signature` (HMAC-SHA1 of the URL and the sorted parameters with the \
            account's auth token), not by an access token. Records the event and the call's status, answers \
            the call flow's TwiML. `phone_call_id` is added to the callback URLs by the queue workers.
            """,
            "security": [],
            "parameters": [
                ["name": "phone_call_id", "in": "query", "schema": ["type": "integer", "format": "int64"]],
                ["name": "X-Twilio-Signature", "in": "header", "required": true, "schema": ["type": "string"]],
            ],
            "requestBody": ["required": true, "content": ["application/x-www-form-urlencoded": ["schema": form]]],
            "responses": [
                "201": ["description": "TwiML for the call.", "content": ["application/xml": ["schema": ["type": "string"]]]],
                "403": ["$ref": "#/components/responses/403"],
                "404": ["$ref": "#/components/responses/404"],
                "422": ["$ref": "#/components/responses/422"],
                "default": ["$ref": "#/components/responses/Error"],
            ],
        ]
    }

    static func addBatchOperations(_ paths: inout Paths) {
        let tag = "Batch operations"
        paths.add(
            "/api/batch_operations", "post",
            Op.create(tag: tag, summary: "Create a batch operation", body: "BatchOperationInput", schema: "BatchOperation"))
        paths.add(
            "/api/callouts/{id}/batch_operations", "post",
            Op.create(
                tag: tag, summary: "Create a batch operation of a callout", body: "BatchOperationInput", schema: "BatchOperation",
                parentDescription: "The callout's id."))
        paths.add(
            "/api/batch_operations", "get",
            Op.index(tag: tag, summary: "List batch operations", schema: "BatchOperation", filters: batchOperationFilters))
        paths.nestedIndex([("callouts", "callout")], "batch_operations", tag: tag, schema: "BatchOperation", filters: batchOperationFilters)
        paths.member("batch_operations", tag: tag, name: "batch operation", schema: "BatchOperation", body: "BatchOperationInput", deletable: true)
        paths.add(
            "/api/batch_operations/{id}/batch_operation_events", "post",
            Op.event(
                tag: tag, summary: "Queue (or requeue) a batch operation", events: BatchOperationEvent.allCases.map(\.rawValue),
                schema: "BatchOperation"))
        let records: [(String, String, [Filter])] = [
            ("contacts", "Contact", contactFilters), ("callout_participations", "CalloutParticipation", participationFilters),
            ("phone_calls", "PhoneCall", phoneCallFilters),
        ]
        for (kind, schema, filters) in records {
            let name = kind.replacingOccurrences(of: "_", with: " ")
            paths.add(
                "/api/batch_operations/{id}/preview/\(kind)", "get",
                Op.index(
                    tag: tag, summary: "Preview the \(name) the operation would act on", schema: schema, filters: filters,
                    parentDescription: "The batch operation's id."))
            paths.add(
                "/api/batch_operations/{id}/\(kind)", "get",
                Op.index(
                    tag: tag, summary: "The \(name) the operation made or moved", schema: schema, filters: filters,
                    parentDescription: "The batch operation's id."))
        }
    }

    static func addCalloutPopulations(_ paths: inout Paths) {
        let tag = "Callout populations"
        let filters: [Filter] = [.hash("metadata"), .hash("contact_filter_params")]
        paths.add(
            "/api/callouts/{id}/callout_populations", "post",
            Op.create(
                tag: tag, summary: "Create a callout population (a CalloutPopulation batch operation)", body: "CalloutPopulationInput",
                schema: "CalloutPopulation", parentDescription: "The callout's id."))
        paths.nestedIndex([("callouts", "callout")], "callout_populations", tag: tag, schema: "CalloutPopulation", filters: filters)
        paths.add(
            "/api/callout_populations", "get", Op.index(tag: tag, summary: "List callout populations", schema: "CalloutPopulation", filters: filters))
        paths.member(
            "callout_populations", tag: tag, name: "callout population", schema: "CalloutPopulation", body: "CalloutPopulationInput",
            deletable: true)
        paths.add(
            "/api/callout_populations/{id}/callout_population_events", "post",
            Op.event(
                tag: tag, summary: "Queue (or requeue) a callout population", events: BatchOperationEvent.allCases.map(\.rawValue),
                schema: "CalloutPopulation"))
        for (kind, schema, filters) in [
            ("preview/contacts", "Contact", contactFilters), ("contacts", "Contact", contactFilters),
            ("callout_participations", "CalloutParticipation", participationFilters),
        ] {
            paths.add(
                "/api/callout_populations/{id}/\(kind)", "get",
                Op.index(
                    tag: tag, summary: "The population's \(kind.replacingOccurrences(of: "_", with: " "))", schema: schema, filters: filters,
                    parentDescription: "The callout population's id."))
        }
    }

    static func addOperations(_ paths: inout Paths) {
        paths.add(
            "/health", "get",
            [
                "tags": ["Operations"], "summary": "Whether the database and the broker answer", "security": [],
                "responses": [
                    "200": ["description": "Healthy.", "content": ["application/json": ["schema": Op.ref("Health")]]],
                    "503": ["description": "Something is down.", "content": ["application/json": ["schema": Op.ref("Health")]]],
                ],
            ])
        for method in ["get", "post"] {
            paths.add(
                CallFlowFallback.path, method,
                [
                    "tags": ["Operations"], "security": [],
                    "summary": "The static TwiML a provider plays when a call's flow cannot be fetched (its FallbackUrl)",
                    "responses": [
                        "200": [
                            "description": "CALL_FLOW_FALLBACK_MESSAGE spoken, or a hang-up when none is configured.",
                            "content": ["application/xml": ["schema": ["type": "string"]]],
                        ]
                    ],
                ])
        }
        paths.add(
            "/api/openapi.json", "get",
            [
                "tags": ["Operations"], "summary": "This document", "security": [],
                "responses": ["200": ["description": "OpenAPI 3.1.", "content": ["application/json": ["schema": ["type": "object"]]]]],
            ])
    }
}
