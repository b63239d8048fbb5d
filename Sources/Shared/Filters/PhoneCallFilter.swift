extension RecordFilter {
    /// Phone calls (alias `pc`): the `q` of the phone call indexes and the batch operations'
    /// `phone_call_filter_params`.
    public static func phoneCalls(_ values: JSONObject, prefix: String = "q") throws(FilterError) -> RecordFilter {
        let parameters = FilterParameters(values, prefix: prefix)
        var filter = RecordFilter()
        try filter.appendInteger(parameters, "callout_participation_id", column: "pc.callout_participation_id")
        try filter.appendInteger(parameters, "contact_id", column: "pc.contact_id")
        try filter.appendInteger(parameters, "callout_id", column: "pc.callout_id")
        filter.append(try parameters.containment("metadata", column: "pc.metadata"))
        try filter.appendMSISDN(parameters, column: "pc.msisdn")
        try filter.appendList(parameters, "status", column: "pc.status", allowed: PhoneCallStatus.allCases.map(\.rawValue))
        try filter.appendText(parameters, "call_flow_logic", column: "pc.call_flow_logic")
        try filter.appendText(parameters, "remote_call_id", column: "pc.remote_call_id")
        try filter.appendList(parameters, "remote_status", column: "pc.remote_status")
        try filter.appendText(parameters, "remote_direction", column: "pc.remote_direction")
        try filter.appendText(parameters, "remote_error_message", column: "pc.remote_error_message")
        filter.append(try parameters.containment("remote_queue_response", column: "pc.remote_queue_response"))
        filter.append(try parameters.containment("remote_response", column: "pc.remote_response"))
        filter.append(try parameters.containment("remote_request_params", column: "pc.remote_request_params"))
        filter.conditions += try parameters.timestamps([("remotely_queued_at", "pc.remotely_queued_at")])
        try filter.appendCreatedAndUpdated(parameters, created: "pc.created_at", updated: "pc.updated_at")
        return filter
    }
}
