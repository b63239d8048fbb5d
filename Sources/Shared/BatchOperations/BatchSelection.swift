/// What a batch operation works on, read from its `parameters`: the contacts to add to a callout, the
/// participations to create calls for, or the phone calls to queue or fetch. The same selection answers the
/// preview endpoints and drives the population worker, so what a preview shows is what the run touches.
public struct BatchSelection: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        /// `contacts c`
        case contacts
        /// `callout_participations p`
        case calloutParticipations
        /// `phone_calls pc`
        case phoneCalls
    }

    public let source: Source
    /// Conditions on the source's alias; the account scope is added by whoever runs it.
    public let filter: RecordFilter
    public let limit: Int64?
    /// PhoneCallCreate: the provider parameters of every call it creates.
    public let remoteRequestParams: JSONValue?
    public let skipValidatePreviewPresence: Bool

    public init(type: BatchOperationType, calloutID: Int64?, parameters: JSONValue) throws {
        let values = parameters.objectValue ?? JSONObject()
        let reader = FilterParameters(values, prefix: "parameters")
        var filter = RecordFilter()
        var remoteRequestParams: JSONValue?
        switch type {
        case .calloutPopulation:
            source = .contacts
            filter = try .contacts(try Self.hash(reader, "contact_filter_params"), prefix: "parameters[contact_filter_params]")
        case .phoneCallCreate:
            source = .calloutParticipations
            filter = try .calloutParticipations(
                try Self.hash(reader, "callout_participation_filter_params"),
                prefix: "parameters[callout_participation_filter_params]")
            if let calloutID { filter.append(.equalsInteger("p.callout_id", calloutID)) }
            let callouts = try RecordFilter.callouts(try Self.hash(reader, "callout_filter_params"), prefix: "parameters[callout_filter_params]")
            if !callouts.conditions.isEmpty {
                filter.append(.nested("EXISTS (SELECT 1 FROM callouts co WHERE co.id = p.callout_id", callouts, ")"))
            }
            guard case .object(let params)? = values["remote_request_params"], !params.isEmpty else {
                throw ValidationErrors("remote_request_params", ValidationErrors.blank)
            }
            remoteRequestParams = .object(params)
        case .phoneCallQueue, .phoneCallQueueRemoteFetch:
            source = .phoneCalls
            filter = try .phoneCalls(try Self.hash(reader, "phone_call_filter_params"), prefix: "parameters[phone_call_filter_params]")
            if let calloutID { filter.append(.equalsInteger("pc.callout_id", calloutID)) }
            let callouts = try RecordFilter.callouts(try Self.hash(reader, "callout_filter_params"), prefix: "parameters[callout_filter_params]")
            if !callouts.conditions.isEmpty {
                filter.append(.nested("EXISTS (SELECT 1 FROM callouts co WHERE co.id = pc.callout_id", callouts, ")"))
            }
        }
        self.filter = filter
        self.remoteRequestParams = remoteRequestParams
        if let limit = try reader.integer("limit") {
            guard limit > 0 else { throw ValidationErrors("limit", "must be greater than 0") }
            self.limit = limit
        } else {
            limit = nil
        }
        skipValidatePreviewPresence = try reader.boolean("skip_validate_preview_presence") ?? false
    }

    private static func hash(_ reader: FilterParameters, _ key: String) throws(FilterError) -> JSONObject {
        try reader.nested(key)?.values ?? JSONObject()
    }
}
