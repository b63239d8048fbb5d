import ArgumentParser

@main
struct WorkersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "Workers",
        abstract: "SCFM background processes: one worker role per process, the local Kafka-protocol broker and the fake telephony provider.",
        discussion: "Configuration comes from environment variables; see README.md.",
        subcommands: [RunCommand.self, BrokerCommand.self, FakeProviderCommand.self],
        defaultSubcommand: RunCommand.self
    )
}
