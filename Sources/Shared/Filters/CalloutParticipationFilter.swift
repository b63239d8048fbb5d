extension RecordFilter {
    /// Callout participations (alias `p`): the `q` of the participation indexes and PhoneCallCreate's
    /// `callout_participation_filter_params`. The phone-call filters read the summary columns that the
    /// phone_calls triggers keep (`phone_calls_count`, `last_phone_call_attempt`), never phone_calls itself.
    public static func calloutParticipations(_ values: JSONObject, prefix: String = "q") throws(FilterError) -> RecordFilter {
        let parameters = FilterParameters(values, prefix: prefix)
        let statuses = PhoneCallStatus.allCases.map(\.rawValue)
        var filter = RecordFilter()
        filter.append(try parameters.containment("metadata", column: "p.metadata"))
        try filter.appendInteger(parameters, "callout_id", column: "p.callout_id")
        try filter.appendInteger(parameters, "contact_id", column: "p.contact_id")
        try filter.appendInteger(parameters, "callout_population_id", column: "p.callout_population_id")
        try filter.appendMSISDN(parameters, column: "p.msisdn")
        try filter.appendText(parameters, "call_flow_logic", column: "p.call_flow_logic")
        if let has = try parameters.boolean("has_phone_calls") {
            filter.append(.predicate(has ? "p.phone_calls_count > 0" : "p.phone_calls_count = 0"))
        }
        if let none = try parameters.boolean("no_phone_calls") {
            filter.append(.predicate(none ? "p.phone_calls_count = 0" : "p.phone_calls_count > 0"))
        }
        if let attempts = try parameters.list("last_phone_call_attempt", allowed: statuses) {
            filter.append(.anyOf("p.last_phone_call_attempt", attempts))
        }
        if let attempts = try parameters.list("no_phone_calls_or_last_attempt", allowed: statuses) {
            filter.append(.predicateWithList("(p.phone_calls_count = 0 OR p.last_phone_call_attempt = ANY(", attempts, "))"))
        }
        try filter.appendCreatedAndUpdated(parameters, created: "p.created_at", updated: "p.updated_at")
        return filter
    }
}
