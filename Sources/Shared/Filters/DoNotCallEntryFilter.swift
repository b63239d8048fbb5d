extension RecordFilter {
    /// Do-not-call entries (alias `d`): the `q` of `/api/do_not_call_entries`.
    public static func doNotCallEntries(_ values: JSONObject, prefix: String = "q") throws(FilterError) -> RecordFilter {
        let parameters = FilterParameters(values, prefix: prefix)
        var filter = RecordFilter()
        filter.append(try parameters.containment("metadata", column: "d.metadata"))
        try filter.appendMSISDN(parameters, column: "d.msisdn")
        try filter.appendCreatedAndUpdated(parameters, created: "d.created_at", updated: "d.updated_at")
        return filter
    }
}
