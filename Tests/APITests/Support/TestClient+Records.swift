import HummingbirdTesting
import Shared
import Testing

extension TestClientProtocol {
    /// POSTs a form and returns the new record's id, expecting 201.
    func create(_ path: String, token: String, form: String = "") async throws -> Int64 {
        let response = try await request(.post, path, token: token, form: form)
        #expect(response.status == .created, "\(path): \(response.text)")
        guard case .integer(let id)? = try response.json["id"] else { throw RecordNotFound() }
        return id
    }

    /// The ids of an index response, in order.
    func ids(_ path: String, token: String) async throws -> [Int64] {
        let response = try await request(.get, path, token: token)
        #expect(response.status == .ok, "\(path): \(response.text)")
        return try response.recordIDs
    }
}

extension TestResponse {
    var recordIDs: [Int64] {
        get throws {
            try json.arrayValue?.compactMap { if case .integer(let id)? = $0["id"] { id } else { nil } } ?? []
        }
    }
}

/// A small campaign: a callout with participations for the given contacts, each created through the API.
struct Campaign {
    let calloutID: Int64
    let contactIDs: [Int64]
    let participationIDs: [Int64]

    static func make(
        _ client: some TestClientProtocol, token: String, msisdns: [String], calloutForm: String = ""
    ) async throws -> Campaign {
        let calloutID = try await client.create("/api/callouts", token: token, form: calloutForm)
        var contacts: [Int64] = []
        var participations: [Int64] = []
        for msisdn in msisdns {
            let contact = try await client.create("/api/contacts", token: token, form: "msisdn=\(msisdn)")
            contacts.append(contact)
            participations.append(
                try await client.create("/api/callouts/\(calloutID)/callout_participations", token: token, form: "contact_id=\(contact)"))
        }
        return Campaign(calloutID: calloutID, contactIDs: contacts, participationIDs: participations)
    }
}

/// `remote_request_params` as the seed's curl examples send them.
let seedRemoteRequestParams =
    "remote_request_params[from]=1234&remote_request_params[url]=https%3A%2F%2Fdemo.twilio.com%2Fdocs%2Fvoice.xml&remote_request_params[method]=GET"
