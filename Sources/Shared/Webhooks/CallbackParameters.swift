/// Points a dial's provider requests at this system's `POST /api/remote_phone_call_events`: the status
/// callback (how results arrive between remote fetches) and, when the call names no instructions of its own,
/// the call flow URL (how the call gets what to play). Both carry the phone call's id and its token, so a
/// callback that arrives before the dial's answer is applied still finds its call, and no other URL can name
/// it. What the call's `remote_request_params` set themselves is left alone.
public enum CallbackParameters {
    /// Twilio needs one of these for a call's instructions.
    static let instructionParameters: Set<String> = ["Url", "Twiml", "ApplicationSid"]

    public static func adding(to parameters: JSONValue, phoneCallID: Int64, endpoint callbacks: CallbackEndpoint?) -> JSONValue {
        guard let callbacks else { return parameters }
        var object = parameters.objectValue ?? JSONObject()
        let given = Set(object.map { name, _ in TwilioParameterNames.pascalCase(name) })
        let endpoint = callbacks.url(phoneCallID: phoneCallID)
        if !given.contains("StatusCallback") { object["status_callback"] = .string(endpoint) }
        if given.isDisjoint(with: instructionParameters) {
            object["url"] = .string(endpoint)
            // The call flow is ours: if it cannot be fetched, the provider plays the static fallback.
            if let fallback = callbacks.fallbackURL, !given.contains("FallbackUrl") {
                object["fallback_url"] = .string(fallback)
                object["fallback_method"] = .string("POST")
            }
        }
        return .object(object)
    }
}
