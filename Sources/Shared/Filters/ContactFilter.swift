extension RecordFilter {
    /// Contacts (alias `c`): the `q` of `/api/contacts` and CalloutPopulation's `contact_filter_params`.
    public static func contacts(_ values: JSONObject, prefix: String = "q") throws(FilterError) -> RecordFilter {
        let parameters = FilterParameters(values, prefix: prefix)
        var filter = RecordFilter()
        filter.append(try parameters.containment("metadata", column: "c.metadata"))
        try filter.appendMSISDN(parameters, column: "c.msisdn")
        try filter.appendCreatedAndUpdated(parameters, created: "c.created_at", updated: "c.updated_at")
        return filter
    }
}
