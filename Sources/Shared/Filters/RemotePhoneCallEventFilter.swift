extension RecordFilter {
    /// Remote phone call events (alias `e`): the `q` of the event indexes.
    public static func remotePhoneCallEvents(_ values: JSONObject, prefix: String = "q") throws(FilterError) -> RecordFilter {
        let parameters = FilterParameters(values, prefix: prefix)
        var filter = RecordFilter()
        try filter.appendInteger(parameters, "phone_call_id", column: "e.phone_call_id")
        filter.append(try parameters.containment("details", column: "e.details"))
        filter.append(try parameters.containment("metadata", column: "e.metadata"))
        try filter.appendText(parameters, "call_flow_logic", column: "e.call_flow_logic")
        try filter.appendText(parameters, "remote_call_id", column: "e.remote_call_id")
        try filter.appendText(parameters, "remote_direction", column: "e.remote_direction")
        try filter.appendCreatedAndUpdated(parameters, created: "e.created_at", updated: "e.updated_at")
        return filter
    }
}
