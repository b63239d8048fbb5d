import Hummingbird
import Shared

/// The routes of one record of the caller's account at `<collection>/:id`: GET (200 with its JSON), PATCH
/// and PUT (204), DELETE (204); update and delete are left out where the resource has none.
enum MemberRoutes {
    typealias Find = @Sendable (_ accountID: Int64, _ id: Int64) async throws -> JSONValue
    typealias Update = @Sendable (_ accountID: Int64, _ id: Int64, _ parameters: RequestParameters) async throws -> Void
    typealias Delete = @Sendable (_ accountID: Int64, _ id: Int64) async throws -> Void

    static func add(
        to group: RouterGroup<APIRequestContext>, collection: String, find: @escaping Find, update: Update?,
        delete: Delete?
    ) {
        group.get("\(collection)/:id") { _, context in
            let account = try context.requireAccount()
            return JSONResponse.make(.ok, try await find(account.id, try context.recordID()))
        }
        if let update {
            let handler: @Sendable (Request, APIRequestContext) async throws -> Response = { request, context in
                let account = try context.requireAccount()
                let id = try context.recordID()
                try await update(account.id, id, try await RequestParameters.parse(request))
                return JSONResponse.noContent()
            }
            group.patch("\(collection)/:id", use: handler)
            group.put("\(collection)/:id", use: handler)
        }
        if let delete {
            group.delete("\(collection)/:id") { _, context in
                let account = try context.requireAccount()
                try await delete(account.id, try context.recordID())
                return JSONResponse.noContent()
            }
        }
    }
}

/// `POST <collection>/:id/<events>` with `event=…`: 201 with the record moved by the event; 422
/// `{"errors":{"event":["is not included in the list"]}}` for an unknown event or one its state does not allow.
enum EventRoute {
    static func add<Event: RawRepresentable & Sendable>(
        to group: RouterGroup<APIRequestContext>, path: String, event: Event.Type,
        find: @escaping MemberRoutes.Find,
        apply: @escaping @Sendable (_ event: Event, _ accountID: Int64, _ id: Int64) async throws -> (json: JSONValue, location: String)
    ) where Event.RawValue == String {
        group.post("\(path)") { request, context in
            let account = try context.requireAccount()
            let id = try context.recordID()
            let parameters = try await RequestParameters.parse(request)
            guard let event = try parameters.string("event").flatMap(Event.init(rawValue:)) else {
                _ = try await find(account.id, id)
                throw ValidationErrors("event", ValidationErrors.notIncluded)
            }
            let moved = try await apply(event, account.id, id)
            return JSONResponse.created(moved.json, location: Location.url(request, path: moved.location))
        }
    }
}
