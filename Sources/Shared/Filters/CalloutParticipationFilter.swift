extension RecordFilter {
    /// Callout participations (alias `p`): the `q` of the participation indexes and PhoneCallCreate's
    /// `callout_participation_filter_params`. The phone-call filters probe the participation's latest call
    /// (`phone_calls.is_latest`, kept by triggers) through a partial index, one lookup per participation.
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
            filter.append(.predicate(has ? Self.hasPhoneCalls : Self.hasNoPhoneCalls))
        }
        if let none = try parameters.boolean("no_phone_calls") {
            filter.append(.predicate(none ? Self.hasNoPhoneCalls : Self.hasPhoneCalls))
        }
        if let attempts = try parameters.list("last_phone_call_attempt", allowed: statuses) {
            filter.append(
                .predicateWithList(
                    "EXISTS (SELECT 1 FROM phone_calls latest WHERE latest.callout_participation_id = p.id AND latest.is_latest AND latest.status = ANY(",
                    attempts, "))"))
        }
        // No latest call outside the list: true for a participation with no call at all.
        if let attempts = try parameters.list("no_phone_calls_or_last_attempt", allowed: statuses) {
            filter.append(
                .predicateWithList(
                    "NOT EXISTS (SELECT 1 FROM phone_calls latest WHERE latest.callout_participation_id = p.id AND latest.is_latest AND NOT latest.status = ANY(",
                    attempts, "))"))
        }
        // The autopilot's outcome; `pending` for participations that have none yet.
        if let outcomes = try parameters.list("outcome", allowed: Self.participationOutcomes) {
            filter.append(.predicateWithList("coalesce(p.outcome, 'pending') = ANY(", outcomes, ")"))
        }
        try filter.appendCreatedAndUpdated(parameters, created: "p.created_at", updated: "p.updated_at")
        return filter
    }

    public static let participationOutcomes = ["pending", "answered", "exhausted", "do_not_call", "expired"]

    static let hasPhoneCalls: TrustedSQL = "EXISTS (SELECT 1 FROM phone_calls any_call WHERE any_call.callout_participation_id = p.id)"
    static let hasNoPhoneCalls: TrustedSQL =
        "NOT EXISTS (SELECT 1 FROM phone_calls any_call WHERE any_call.callout_participation_id = p.id)"
}
