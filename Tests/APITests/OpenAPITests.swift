import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Shared
import Testing

@testable import API

/// The OpenAPI document against the router it describes; `make fuzz` checks it against the running API.
@Suite(.timeLimit(.minutes(2))) struct OpenAPITests {
    let api: TestAPI

    init() async throws { api = try await .make(suite: "openapi") }

    @Test func servedWithoutATokenAsOpenAPI31() async throws {
        try await api.test { client in
            let response = try await client.request(.get, "/api/openapi.json", token: nil)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
            let document = try response.json
            #expect(document["openapi"] == "3.1.0")
            #expect(document["paths"]?["/api/contacts"]?["get"] != nil)
        }
    }

    /// Every route the API serves is documented, and every documented operation is served (the operator
    /// console's HTML pages under /console are not part of the REST API).
    @Test func describesEveryRouteAndNothingElse() throws {
        let dependencies = APIDependencies(database: api.database, brokerProbe: nil, logger: api.logger)
        let served = Set(
            buildRouter(dependencies).routes.map { route in
                // Captures read `{id}`, as in OpenAPI paths.
                "\(route.method.rawValue) /\(route.path.components.map(\.description).joined(separator: "/"))"
            }.filter { !$0.contains(" /console") })
        var documented = Set<String>()
        for (path, item) in OpenAPIDocument.json["paths"]?.objectValue ?? [:] {
            for (method, _) in item.objectValue ?? [:] { documented.insert("\(method.uppercased()) \(path)") }
        }
        #expect(served.subtracting(documented).sorted() == [], "served but not documented")
        #expect(documented.subtracting(served).sorted() == [], "documented but not served")
        #expect(served.count > 70)
    }

    /// Every `$ref` points at a component that exists.
    @Test func referencesResolve() throws {
        let document = OpenAPIDocument.json
        var missing: [String] = []
        func walk(_ value: JSONValue) {
            switch value {
            case .object(let object):
                if let reference = object["$ref"]?.stringValue {
                    let parts = reference.split(separator: "/").dropFirst().map(String.init)
                    var target: JSONValue? = document
                    for part in parts { target = target?[part] }
                    if target == nil { missing.append(reference) }
                }
                for (_, child) in object { walk(child) }
            case .array(let items): items.forEach(walk)
            default: break
            }
        }
        walk(document)
        #expect(missing == [])
    }
}
