extension RecordFilter {
    /// Callouts (alias `co`): the `q` of `/api/callouts` and the batch operations' `callout_filter_params`.
    public static func callouts(_ values: JSONObject, prefix: String = "q") throws(FilterError) -> RecordFilter {
        let parameters = FilterParameters(values, prefix: prefix)
        var filter = RecordFilter()
        filter.append(try parameters.containment("metadata", column: "co.metadata"))
        try filter.appendList(parameters, "status", column: "co.status", allowed: CalloutStatus.allCases.map(\.rawValue))
        try filter.appendText(parameters, "call_flow_logic", column: "co.call_flow_logic")
        try filter.appendCreatedAndUpdated(parameters, created: "co.created_at", updated: "co.updated_at")
        return filter
    }
}
