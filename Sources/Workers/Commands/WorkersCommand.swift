import ArgumentParser

@main
struct WorkersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "Workers",
        abstract: "SCFM background processes: one worker role per process, and the local Kafka-protocol broker.",
        discussion: "Configuration comes from environment variables; see README.md.",
        subcommands: [RunCommand.self, BrokerCommand.self],
        defaultSubcommand: RunCommand.self
    )
}
