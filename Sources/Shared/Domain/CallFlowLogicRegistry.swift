/// The call flow logic names a callout, participation or phone call may carry. SCFM shipped a few and let
/// deployments register their own with `REGISTERED_CALL_FLOW_LOGIC` (comma separated); anything else is 422
/// `is not included in the list`.
public struct CallFlowLogicRegistry: Sendable, Equatable {
    /// Application is the default flow; the others are the flows SCFM shipped.
    public static let builtIn = [
        "CallFlowLogic::Application", "CallFlowLogic::HelloWorld", "CallFlowLogic::PlayMessage",
        "CallFlowLogic::AvfCapom::CapomShort", "CallFlowLogic::AvfCapom::CapomLong",
    ]

    public let names: [String]

    public init(registered: [String] = []) {
        names = Self.builtIn + registered.filter { !Self.builtIn.contains($0) }
    }

    public init(environment: EnvironmentVariables) throws {
        self.init(registered: try environment.list("REGISTERED_CALL_FLOW_LOGIC") ?? [])
    }

    /// nil or empty clears the value (the default flow applies); anything else must be registered.
    public func validate(_ name: String?) throws(ValidationErrors) -> String? {
        guard let name, !name.isEmpty else { return nil }
        guard names.contains(name) else { throw ValidationErrors("call_flow_logic", ValidationErrors.notIncluded) }
        return name
    }
}
