/// The call flow logic names a callout, participation or phone call may carry, and the flow each one runs.
/// SCFM shipped a few and let deployments register their own with `REGISTERED_CALL_FLOW_LOGIC` (comma
/// separated); anything else is 422 `is not included in the list`.
public struct CallFlowLogicRegistry: Sendable, Equatable {
    /// The flows this build implements; the first is the default (a call without `call_flow_logic`).
    /// A new flow is one type added here.
    public static let implementations: [any CallFlowLogic.Type] = [
        ApplicationCallFlow.self, HelloWorldCallFlow.self, PlayMessageCallFlow.self,
    ]

    /// Names the seeds show whose flows (interactive surveys of one deployment) are not part of this build:
    /// accepted, so records carrying them stay valid, and answered with the default flow.
    static let acceptedWithoutImplementation = ["CallFlowLogic::AvfCapom::CapomShort", "CallFlowLogic::AvfCapom::CapomLong"]

    public static let defaultName = ApplicationCallFlow.name
    public static let builtIn = implementations.map { $0.name } + acceptedWithoutImplementation

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

    /// The flow that answers for `name`: its implementation, or the default flow for a name without one (or
    /// none at all).
    public func flow(named name: String?) -> any CallFlowLogic.Type {
        Self.implementations.first { $0.name == name } ?? ApplicationCallFlow.self
    }

    /// The name a call's flow goes by: the first registered one of phone call, participation, callout and
    /// account settings, else the default.
    public func resolve(_ candidates: [String?]) -> String {
        candidates.lazy.compactMap { $0 }.first { names.contains($0) } ?? Self.defaultName
    }
}
