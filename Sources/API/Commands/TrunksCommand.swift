import ArgumentParser
import Foundation
import Shared

/// `API trunks …`: provider limits that several accounts share by weight (accounts join with
/// `settings.trunk`; weights are `settings.autopilot.weight`).
struct TrunksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trunks",
        abstract: "Manage provider trunks shared by several accounts (DATABASE_URL).",
        discussion: """
            Accounts that name a trunk in settings.trunk share its calls per second by weight \
            (settings.autopilot.weight, default 1): an account with calls waiting gets its weighted share of the \
            accounts with calls waiting, never more than its own max_calls_per_second. The scheduler role \
            recomputes the shares every second.
            """,
        subcommands: [Set.self, List.self, Delete.self])

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a trunk or change its limits, and print it as JSON.")

        @Argument(help: "The trunk's name, as accounts give it in settings.trunk.")
        var name: String
        @Option(help: "Calls per second through the trunk, all its accounts together.")
        var maxCallsPerSecond: Double
        @Option(help: "PREFIX=RATE: at most RATE calls per second to numbers starting with PREFIX (digits after +); repeatable.")
        var prefixCap: [String] = []

        func validate() throws {
            guard !name.isEmpty else { throw ValidationError("the trunk needs a name") }
            guard maxCallsPerSecond > 0 else { throw ValidationError("--max-calls-per-second must be positive") }
            _ = try caps()
        }

        func caps() throws -> [String: Double] {
            var caps: [String: Double] = [:]
            for item in prefixCap {
                let parts = item.split(separator: "=")
                guard parts.count == 2, !parts[0].isEmpty, parts[0].allSatisfy(\.isNumber), let rate = Double(parts[1]), rate > 0 else {
                    throw ValidationError("--prefix-cap takes PREFIX=RATE with digits and a positive rate, such as 85512=5; got \(item)")
                }
                caps[String(parts[0])] = rate
            }
            return caps
        }

        func run() async throws {
            let (name, rate, caps) = (self.name, maxCallsPerSecond, try caps())
            let trunk = try await commandDatabase(label: "scfm.admin") { client, logger in
                try await ProviderTrunkRepository(client: client, logger: logger).set(name: name, maxCallsPerSecond: rate, prefixCaps: caps)
            }
            print(JSONSerializer.string(trunk.json))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print every trunk, one JSON object per line.")

        func run() async throws {
            let trunks = try await commandDatabase(label: "scfm.admin") { client, logger in
                try await ProviderTrunkRepository(client: client, logger: logger).all()
            }
            for trunk in trunks { print(JSONSerializer.string(trunk.json)) }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a trunk: its accounts dial at their own limits again.")

        @Argument(help: "The trunk's name.")
        var name: String

        func run() async throws {
            let name = self.name
            let deleted = try await commandDatabase(label: "scfm.admin") { client, logger in
                try await ProviderTrunkRepository(client: client, logger: logger).delete(name: name)
            }
            guard deleted else { throw ValidationError("no trunk named \(name)") }
            print("deleted trunk \(name)")
        }
    }
}
