extension RecordFilter {
    /// Batch operations (alias `b`): the `q` of the batch operation indexes.
    public static func batchOperations(_ values: JSONObject, prefix: String = "q") throws(FilterError) -> RecordFilter {
        let parameters = FilterParameters(values, prefix: prefix)
        var filter = RecordFilter()
        try filter.appendInteger(parameters, "callout_id", column: "b.callout_id")
        try filter.appendList(parameters, "type", column: "b.type", allowed: BatchOperationType.allCases.map(\.rawValue))
        try filter.appendList(parameters, "status", column: "b.status", allowed: BatchOperationStatus.allCases.map(\.rawValue))
        filter.append(try parameters.containment("metadata", column: "b.metadata"))
        filter.append(try parameters.containment("parameters", column: "b.parameters"))
        try filter.appendCreatedAndUpdated(parameters, created: "b.created_at", updated: "b.updated_at")
        return filter
    }
}
