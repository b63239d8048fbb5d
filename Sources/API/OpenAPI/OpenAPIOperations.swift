import Shared

/// The shapes every SCFM endpoint shares (an index with its pagination headers and filters, a record's
/// GET/PATCH/PUT/DELETE, a create, an event), so that the document says them once and the same way.
enum OpenAPIOperations {
    /// One documented `q[…]` filter of an index.
    struct Filter {
        let name: String
        let schema: JSONValue
        let description: String

        static func text(_ name: String, _ description: String) -> Filter { Filter(name: name, schema: ["type": "string"], description: description) }
        static func integer(_ name: String, _ description: String) -> Filter {
            Filter(name: name, schema: ["type": "integer", "format": "int64"], description: description)
        }
        static func boolean(_ name: String, _ description: String) -> Filter {
            Filter(name: name, schema: ["type": "string", "enum": ["true", "false"]], description: description)
        }
        /// A comma-separated list, each value one of `values` (when given).
        static func list(_ name: String, _ values: [String]?, _ description: String) -> Filter {
            var schema: JSONObject = ["type": "string"]
            if let values { schema["pattern"] = .string("^(\(values.joined(separator: "|")))(,(\(values.joined(separator: "|"))))*$") }
            return Filter(name: name, schema: .object(schema), description: description)
        }
        /// `q[metadata][key]=value`: jsonb containment.
        static func hash(_ name: String) -> Filter {
            Filter(
                name: name, schema: ["type": "object", "additionalProperties": ["type": "string"]],
                description: "Records whose \(name) contains these keys and values: `q[\(name)][key]=value` (nested keys as `[a][b]`).")
        }

        /// created_at/updated_at before/after, with and without `or_` (`q[created_at_or_after]=2017-11-29 01:36:02`).
        static let timestamps: [Filter] = ["created_at", "updated_at"].flatMap { column in
            ["before", "after", "or_before", "or_after"].map {
                Filter(
                    name: "\(column)_\($0)", schema: ["type": "string"],
                    description: "\(column) \($0.replacingOccurrences(of: "_", with: " ")) this time (`YYYY-MM-DD HH:MM:SS`, UTC).")
            }
        }
    }

    static func ref(_ schema: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(schema)")] }

    static func pathID(_ description: String) -> JSONValue {
        ["name": "id", "in": "path", "required": true, "description": .string(description), "schema": ["type": "integer", "format": "int64"]]
    }

    /// The errors any authenticated request can meet, by reference to `components.responses`.
    static func errors(_ statuses: [String]) -> JSONObject {
        var responses = JSONObject()
        for status in statuses { responses[status] = ["$ref": .string("#/components/responses/\(status)")] }
        responses["default"] = ["$ref": "#/components/responses/Error"]
        return responses
    }

    static let readErrors = ["400", "401", "404"]
    static let writeErrors = ["400", "401", "404", "413", "415", "422", "503"]

    static func index(tag: String, summary: String, schema: String, filters: [Filter], parentDescription: String? = nil) -> JSONValue {
        var parameters: [JSONValue] = []
        if let parentDescription { parameters.append(pathID(parentDescription)) }
        parameters.append(["$ref": "#/components/parameters/page"])
        parameters.append(["$ref": "#/components/parameters/per_page"])
        // `q` is one deepObject (`q[status]=queued&q[metadata][region]=north`), as Rails' nested parameters are.
        if !filters.isEmpty {
            var properties = JSONObject()
            for filter in filters {
                var schema = filter.schema.objectValue ?? [:]
                schema["description"] = .string(filter.description)
                properties[filter.name] = .object(schema)
            }
            parameters.append([
                "name": "q", "in": "query", "style": "deepObject", "explode": true,
                "description": "Filters; every one given must match.",
                "schema": ["type": "object", "properties": .object(properties)],
            ])
        }
        var responses: JSONObject = [
            "200": [
                "description": "One page of records, newest first.",
                "headers": [
                    "Per-Page": ["$ref": "#/components/headers/Per-Page"],
                    "Total": ["$ref": "#/components/headers/Total"],
                    "Link": ["$ref": "#/components/headers/Link"],
                ],
                "content": ["application/json": ["schema": ["type": "array", "items": ref(schema)]]],
            ]
        ]
        for (status, response) in errors(readErrors) { responses[status] = response }
        return ["tags": [.string(tag)], "summary": .string(summary), "parameters": .array(parameters), "responses": .object(responses)]
    }

    static func create(tag: String, summary: String, body: String, schema: String, parentDescription: String? = nil) -> JSONValue {
        var responses: JSONObject = [
            "201": [
                "description": "Created; `Location` is the new record's URL.",
                "headers": ["Location": ["$ref": "#/components/headers/Location"]],
                "content": ["application/json": ["schema": ref(schema)]],
            ]
        ]
        for (status, response) in errors(writeErrors) { responses[status] = response }
        var operation: JSONObject = [
            "tags": [.string(tag)], "summary": .string(summary), "requestBody": requestBody(body), "responses": .object(responses),
        ]
        if let parentDescription { operation["parameters"] = [pathID(parentDescription)] }
        return .object(operation)
    }

    static func requestBody(_ schema: String, required: Bool = false) -> JSONValue {
        [
            "required": .bool(required),
            "content": [
                "application/json": ["schema": ref(schema)],
                "application/x-www-form-urlencoded": ["schema": ref(schema)],
            ],
        ]
    }

    static func show(tag: String, summary: String, schema: String) -> JSONValue {
        var responses: JSONObject = ["200": ["description": "The record.", "content": ["application/json": ["schema": ref(schema)]]]]
        for (status, response) in errors(readErrors) { responses[status] = response }
        return ["tags": [.string(tag)], "summary": .string(summary), "parameters": [pathID("The record's id.")], "responses": .object(responses)]
    }

    static func update(tag: String, summary: String, body: String) -> JSONValue {
        var responses: JSONObject = ["204": ["description": "Updated."]]
        for (status, response) in errors(writeErrors) { responses[status] = response }
        return [
            "tags": [.string(tag)], "summary": .string(summary), "parameters": [pathID("The record's id.")], "requestBody": requestBody(body),
            "responses": .object(responses),
        ]
    }

    static func delete(tag: String, summary: String) -> JSONValue {
        var responses: JSONObject = ["204": ["description": "Deleted."]]
        for (status, response) in errors(["401", "404", "422", "503"]) { responses[status] = response }
        return ["tags": [.string(tag)], "summary": .string(summary), "parameters": [pathID("The record's id.")], "responses": .object(responses)]
    }

    static func event(tag: String, summary: String, events: [String], schema: String) -> JSONValue {
        var responses: JSONObject = [
            "201": [
                "description": "The record after the event; `Location` is its URL.",
                "headers": ["Location": ["$ref": "#/components/headers/Location"]],
                "content": ["application/json": ["schema": ref(schema)]],
            ]
        ]
        for (status, response) in errors(writeErrors) { responses[status] = response }
        let body: JSONValue = [
            "type": "object",
            "properties": ["event": ["type": "string", "enum": .array(events.map { .string($0) })]],
        ]
        return [
            "tags": [.string(tag)], "summary": .string(summary), "parameters": [pathID("The record's id.")],
            "requestBody": [
                "required": true,
                "content": ["application/json": ["schema": body], "application/x-www-form-urlencoded": ["schema": body]],
            ],
            "responses": .object(responses),
        ]
    }
}
