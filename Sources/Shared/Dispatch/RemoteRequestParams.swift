/// What a tenant's `remote_request_params` may hand the provider: Twilio's create-call parameters (snake or
/// Pascal case, `from` or `From`), nothing else, and no callback of theirs aimed at this API.
///
/// The provider acts on whatever it is given with the platform's credentials and signs what it sends back with
/// the platform's token, so a parameter list is a capability list. Allowed: the call's instructions (`url`,
/// `method`, `twiml`, `application_sid`, `fallback_url`, `fallback_method`), its caller id (`from`,
/// `caller_id`), its status callbacks (`status_callback`, `status_callback_method`, `status_callback_event`),
/// dialling (`send_digits`, `timeout`, `time_limit`, `trim`, `byoc`, `call_reason`), recording (`record`,
/// `recording_channels`, `recording_track`, `recording_status_callback`, `recording_status_callback_method`,
/// `recording_status_callback_event`), answering-machine detection (`machine_detection` and its
/// `machine_detection_*` settings, `async_amd`, `async_amd_status_callback`, `async_amd_status_callback_method`)
/// and SIP (`sip_auth_username`, `sip_auth_password`). `to` is always the participation's number.
///
/// A URL parameter that points at this API (`PUBLIC_BASE_URL`'s host and port) is not the tenant's to aim: the
/// dial carries this system's own callback URLs, bound to the call (`CallbackTokens`), in its place. (The
/// seeds' `remote_request_params[url]=…/api/remote_phone_call_events` keeps working: it is what the dial does
/// by itself.)
public enum RemoteRequestParams {
    public static let allowed: Set<String> = [
        "From", "CallerId", "Url", "Method", "Twiml", "ApplicationSid", "FallbackUrl", "FallbackMethod",
        "StatusCallback", "StatusCallbackMethod", "StatusCallbackEvent", "SendDigits", "Timeout", "TimeLimit", "Trim", "Byoc",
        "CallReason", "Record", "RecordingChannels", "RecordingTrack", "RecordingStatusCallback", "RecordingStatusCallbackMethod",
        "RecordingStatusCallbackEvent", "MachineDetection", "MachineDetectionTimeout", "MachineDetectionSpeechThreshold",
        "MachineDetectionSpeechEndThreshold", "MachineDetectionSilenceTimeout", "AsyncAmd", "AsyncAmdStatusCallback",
        "AsyncAmdStatusCallbackMethod", "SipAuthUsername", "SipAuthPassword", "To",
    ]

    /// The URL parameters this API answers itself when they point here, with the method that goes with each
    /// (left out with its URL: this API takes POST only, and the dial's own URL is requested with the default).
    static let callbackURLs: [String: String] = [
        "Url": "Method", "FallbackUrl": "FallbackMethod", "StatusCallback": "StatusCallbackMethod",
        "RecordingStatusCallback": "RecordingStatusCallbackMethod", "AsyncAmdStatusCallback": "AsyncAmdStatusCallbackMethod",
    ]

    /// The names not allowed, as given (a 422 for the API's writes).
    public static func unknownNames(_ parameters: JSONValue) -> [String] {
        (parameters.objectValue ?? JSONObject()).keys.filter { !allowed.contains(TwilioParameterNames.pascalCase($0)) }
    }

    /// What the dial sends: the allowed parameters, without any callback URL aimed at this API (`publicBaseURL`);
    /// `dropped` names what was left out.
    public static func forDial(_ parameters: JSONValue, publicBaseURL: String?) -> (parameters: JSONValue, dropped: [String]) {
        let given = parameters.objectValue ?? JSONObject()
        var aimedHere: Set<String> = []
        if let publicBaseURL {
            for (name, value) in given {
                let twilioName = TwilioParameterNames.pascalCase(name)
                if let method = callbackURLs[twilioName], let url = value.stringValue, PublicBaseURL.pointsHere(url, base: publicBaseURL) {
                    aimedHere.formUnion([twilioName, method])
                }
            }
        }
        var kept = JSONObject()
        var dropped: [String] = []
        for (name, value) in given {
            let twilioName = TwilioParameterNames.pascalCase(name)
            if !allowed.contains(twilioName) || aimedHere.contains(twilioName) {
                dropped.append(name)
            } else {
                kept[name] = value
            }
        }
        return (.object(kept), dropped)
    }
}
