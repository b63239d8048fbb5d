import Shared

/// `components` of the OpenAPI document: the JSON of every resource as the API writes it (the `json`
/// properties of `Sources/Shared/Domain`), the bodies it reads, and the shared errors, headers and parameters.
enum OpenAPISchemas {
    static let id: JSONValue = ["type": "integer", "format": "int64"]
    static let optionalID: JSONValue = ["type": ["integer", "null"], "format": "int64"]
    static let text: JSONValue = ["type": "string"]
    static let optionalText: JSONValue = ["type": ["string", "null"]]
    static let timestamp: JSONValue = ["type": "string", "format": "date-time"]
    static let optionalTimestamp: JSONValue = ["type": ["string", "null"], "format": "date-time"]
    static let hash: JSONValue = ["type": "object"]
    static let metadataMergeMode: JSONValue = [
        "type": "string", "enum": ["merge", "replace", "deep_merge"],
        "description": "How `metadata` combines with the stored metadata (default `merge`).",
    ]

    static func record(_ properties: JSONObject, required: [String]? = nil) -> JSONValue {
        let names = required ?? properties.map(\.key)
        return ["type": "object", "properties": .object(properties), "required": .array(names.map { .string($0) })]
    }

    static var webhookEndpoint: JSONObject {
        [
            "id": id, "url": text, "event_types": ["type": "array", "items": text], "enabled": ["type": "boolean"],
            "metadata": hash, "created_at": timestamp, "updated_at": timestamp,
        ]
    }

    static var webhookEndpointWithSecret: JSONObject {
        var object = webhookEndpoint
        object["secret"] = ["type": "string", "description": "The HMAC-SHA256 key of X-SCFM-Signature; shown only here."]
        return object
    }

    static func body(_ properties: JSONObject) -> JSONValue { ["type": "object", "properties": .object(properties)] }

    static func strings(_ values: [String]) -> JSONValue { .array(values.map { .string($0) }) }

    static var schemas: JSONObject {
        [
            "Account": record([
                "id": id, "metadata": hash, "settings": hash, "twilio_account_sid": optionalText,
                "somleng_account_sid": optionalText, "platform_provider_name": optionalText,
                "permissions": ["type": "array", "items": text], "created_at": timestamp, "updated_at": timestamp,
            ]),
            "AccountInput": body([
                "metadata": hash, "metadata_merge_mode": metadataMergeMode, "settings": hash,
                "platform_provider_name": ["type": ["string", "null"], "enum": ["twilio", "somleng", nil]],
                "twilio_account_sid": optionalText, "twilio_auth_token": optionalText, "somleng_account_sid": optionalText,
                "somleng_auth_token": optionalText, "permissions": ["type": "array", "items": text],
            ]),
            "AccessToken": record([
                "id": id, "token": ["type": "string", "description": "Shown once: only its SHA-256 is stored."],
                "created_at": timestamp, "updated_at": timestamp, "metadata": hash,
            ]),
            "AccessTokenListing": record([
                "id": id, "account_id": id,
                "token": [
                    "type": ["string", "null"],
                    "description": "The token's first 6 characters and an ellipsis (null for tokens made before listing existed).",
                ],
                "scope": ["type": "string", "enum": strings(AccessToken.Scope.allCases.map(\.rawValue))],
                "expires_at": optionalTimestamp, "revoked_at": optionalTimestamp, "last_used_at": optionalTimestamp,
                "created_at": timestamp, "updated_at": timestamp, "metadata": hash,
            ]),
            "AccessTokenInput": body([
                "account_sid": ["type": "string", "description": "The id of the account the token is for (super-admin only)."],
                "scope": [
                    "type": "string", "enum": strings(AccessToken.Scope.allCases.map(\.rawValue)),
                    "description": "read_write (default) or read_only (GET and HEAD only).",
                ],
                "expires_at": ["type": "string", "format": "date-time", "description": "When the token stops working (optional)."],
                "metadata": hash,
            ]),
            "Contact": record(["id": id, "msisdn": text, "metadata": hash, "created_at": timestamp, "updated_at": timestamp]),
            "ContactInput": body([
                "msisdn": ["type": "string", "description": "E.164 or national with country code; unique per account."],
                "metadata": hash, "metadata_merge_mode": metadataMergeMode,
            ]),
            "Callout": record([
                "id": id, "status": ["type": "string", "enum": strings(CalloutStatus.allCases.map(\.rawValue))],
                "call_flow_logic": optionalText, "metadata": hash, "created_at": timestamp, "updated_at": timestamp,
            ]),
            "CalloutInput": body([
                "call_flow_logic": optionalText, "audio_url": optionalText, "metadata": hash,
                "metadata_merge_mode": metadataMergeMode, "settings": hash,
            ]),
            "CalloutStatistics": [
                "type": "object", "required": ["callout_status"],
                "properties": ["callout_status": ["type": "string", "enum": strings(CalloutStatus.allCases.map(\.rawValue))]],
                "additionalProperties": ["type": "integer"],
            ],
            "CalloutParticipation": record([
                "id": id, "callout_id": id, "contact_id": id, "callout_population_id": optionalID, "msisdn": text,
                "call_flow_logic": optionalText, "metadata": hash, "created_at": timestamp, "updated_at": timestamp,
                "outcome": [
                    "type": ["string", "null"], "enum": ["answered", "exhausted", "do_not_call", "expired", nil],
                    "description": "The autopilot's final outcome; null while pending.",
                ],
                "attempts": ["type": "integer", "description": "Calls that reached the provider and ended."],
                "next_attempt_at": optionalTimestamp,
            ]),
            "CalloutParticipationInput": body([
                "contact_id": ["type": ["integer", "string"]], "msisdn": text, "call_flow_logic": optionalText, "metadata": hash,
                "metadata_merge_mode": metadataMergeMode,
            ]),
            "PhoneCall": record([
                "id": id, "callout_participation_id": optionalID, "contact_id": id, "create_batch_operation_id": optionalID,
                "queue_batch_operation_id": optionalID, "queue_remote_fetch_batch_operation_id": optionalID,
                "status": ["type": "string", "enum": strings(PhoneCallStatus.allCases.map(\.rawValue))], "msisdn": text,
                "remote_call_id": optionalText, "remote_status": optionalText, "remote_direction": optionalText,
                "remote_error_message": optionalText, "metadata": hash, "remote_response": hash, "remote_request_params": hash,
                "remote_queue_response": hash, "call_flow_logic": optionalText, "remotely_queued_at": optionalTimestamp,
                "created_at": timestamp, "updated_at": timestamp,
            ]),
            "PhoneCallInput": body([
                "remote_request_params": [
                    "type": "object", "description": "Twilio create-call parameters (`url`, `method`, …) sent with `To`.",
                ],
                "call_flow_logic": optionalText, "metadata": hash, "metadata_merge_mode": metadataMergeMode,
            ]),
            "RemotePhoneCallEvent": record([
                "id": id, "phone_call_id": id, "details": hash, "metadata": hash, "remote_call_id": text,
                "remote_direction": text, "call_flow_logic": text, "created_at": timestamp, "updated_at": timestamp,
            ]),
            "WebhookEndpoint": record(webhookEndpoint),
            "WebhookEndpointWithSecret": record(webhookEndpointWithSecret),
            "WebhookEndpointInput": body([
                "url": ["type": "string", "description": "Where deliveries are POSTed (http or https)."],
                "event_types": ["type": "array", "items": ["type": "string", "enum": strings(WebhookEventType.allCases.map(\.rawValue))]],
                "enabled": ["type": "boolean"], "metadata": hash, "metadata_merge_mode": metadataMergeMode,
            ]),
            "WebhookDelivery": record([
                "id": id, "webhook_endpoint_id": id,
                "event_type": ["type": "string", "enum": strings(WebhookEventType.allCases.map(\.rawValue))],
                "payload": hash, "status": ["type": "string", "enum": ["pending", "delivered", "failed"]],
                "attempts": ["type": "integer"], "next_attempt_at": optionalTimestamp,
                "last_response_status": ["type": ["integer", "null"]], "last_response_body": optionalText, "last_error": optionalText,
                "delivered_at": optionalTimestamp, "created_at": timestamp, "updated_at": timestamp,
            ]),
            "DoNotCallEntry": record(["id": id, "msisdn": text, "metadata": hash, "created_at": timestamp, "updated_at": timestamp]),
            "DoNotCallEntryInput": body([
                "msisdn": ["type": "string", "description": "The number never to call; unique per account."],
                "metadata": hash, "metadata_merge_mode": metadataMergeMode,
            ]),
            "CalloutProgress": [
                "type": "object",
                "required": [
                    "callout_status", "participations", "dialled", "answered", "exhausted", "do_not_call", "expired", "remaining",
                    "calls_per_second", "estimated_finish_at", "finished_at",
                ],
                "properties": [
                    "callout_status": ["type": "string", "enum": strings(CalloutStatus.allCases.map(\.rawValue))],
                    "participations": ["type": "integer"], "dialled": ["type": "integer", "description": "Calls that reached the provider."],
                    "answered": ["type": "integer"], "exhausted": ["type": "integer"], "do_not_call": ["type": "integer"],
                    "expired": ["type": "integer"], "remaining": ["type": "integer", "description": "Participations without an outcome."],
                    "calls_per_second": ["type": "number", "description": "Dialling rate over the last seconds."],
                    "estimated_finish_at": optionalTimestamp, "finished_at": optionalTimestamp,
                ],
            ],
            "MetadataInput": body(["metadata": hash, "metadata_merge_mode": metadataMergeMode]),
            "BatchOperation": record([
                "id": id, "callout_id": optionalID, "parameters": hash, "metadata": hash,
                "status": ["type": "string", "enum": strings(BatchOperationStatus.allCases.map(\.rawValue))],
                "created_at": timestamp, "updated_at": timestamp,
                "type": ["type": "string", "enum": strings(BatchOperationType.allCases.map(\.rawValue))],
                "progress": [
                    "type": "object", "required": ["done", "total"],
                    "properties": ["done": ["type": "integer"], "total": ["type": ["integer", "null"]]],
                ],
            ]),
            "BatchOperationInput": body([
                "type": ["type": "string", "enum": strings(BatchOperationType.allCases.map(\.rawValue))],
                "callout_id": ["type": ["integer", "string"]],
                "parameters": [
                    "type": "object",
                    "description": """
                    By type: `contact_filter_params` (CalloutPopulation); `callout_filter_params`, \
                    `callout_participation_filter_params`, `remote_request_params`, `limit` (PhoneCallCreate); \
                    `phone_call_filter_params`, `callout_filter_params`, `limit` (PhoneCallQueue, \
                    PhoneCallQueueRemoteFetch); `skip_validate_preview_presence` (every type).
                    """,
                ],
                "metadata": hash, "metadata_merge_mode": metadataMergeMode,
            ]),
            "CalloutPopulation": [
                "type": "object",
                "required": ["id", "callout_id", "contact_filter_params", "metadata", "status", "created_at", "updated_at"],
                "properties": [
                    "id": id, "callout_id": optionalID, "contact_filter_params": hash, "metadata": hash,
                    "status": ["type": "string", "enum": strings(BatchOperationStatus.allCases.map(\.rawValue))],
                    "created_at": timestamp, "updated_at": timestamp,
                ],
            ],
            "CalloutPopulationInput": body(["contact_filter_params": hash, "metadata": hash, "metadata_merge_mode": metadataMergeMode]),
            "Error": [
                "type": "object", "required": ["status", "error"],
                "properties": ["status": ["type": "integer"], "error": text, "message": text],
            ],
            "ValidationErrors": [
                "type": "object", "required": ["errors"],
                "properties": [
                    "errors": [
                        "type": "object", "additionalProperties": ["type": "array", "items": text],
                        "description": "Messages by attribute, as Rails writes them: `{\"msisdn\":[\"can't be blank\"]}`.",
                    ]
                ],
            ],
            "Health": [
                "type": "object", "required": ["status", "database", "broker"],
                "properties": [
                    "status": ["type": "string", "enum": ["ok", "degraded", "unavailable"]],
                    "database": ["type": "string", "enum": ["ok", "unavailable"]],
                    "broker": ["type": "string", "enum": ["ok", "unavailable", "not configured"]],
                ],
            ],
        ]
    }

    static func errorResponse(_ description: String, schema: String = "Error") -> JSONValue {
        ["description": .string(description), "content": ["application/json": ["schema": OpenAPIOperations.ref(schema)]]]
    }

    static var responses: JSONObject {
        [
            "400": errorResponse("A malformed body or filter parameter."),
            "401": errorResponse("No access token, or an unknown one."),
            "403": errorResponse("The token's account may not do this (super-admin only)."),
            "404": errorResponse("No such record in the token's account."),
            "413": errorResponse("The body is over 1 MiB."),
            "415": errorResponse("A body that is neither JSON nor a form."),
            "422": errorResponse("The record is invalid or the action not allowed in its state.", schema: "ValidationErrors"),
            "503": [
                "description": "The record is busy (a worker holds it); retry after `Retry-After` seconds.",
                "headers": ["Retry-After": ["schema": ["type": "integer"]]],
                "content": ["application/json": ["schema": OpenAPIOperations.ref("Error")]],
            ],
            "Error": errorResponse("Any other error, in the same format."),
        ]
    }

    static var headers: JSONObject {
        [
            "Per-Page": ["description": "Records per page.", "schema": ["type": "integer"]],
            "Total": ["description": "Records matching the filters, over every page.", "schema": ["type": "integer"]],
            "Link": ["description": "first/prev/next/last page URLs (RFC 8288) when there is more than one page.", "schema": text],
            "Location": ["description": "The record's URL.", "schema": text],
        ]
    }

    static var parameters: JSONObject {
        [
            "page": [
                "name": "page", "in": "query", "description": "Page number, from 1.",
                "schema": ["type": "integer", "minimum": 1],
            ],
            "per_page": [
                "name": "per_page", "in": "query", "description": "Records per page (default 25; above 1,000 reads as 1,000).",
                "schema": ["type": "integer", "minimum": 1],
            ],
        ]
    }
}
