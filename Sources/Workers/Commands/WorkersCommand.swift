import ArgumentParser

@main
struct WorkersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "Workers",
        abstract: "SCFM background processes: the worker roles and the local Kafka-protocol broker.",
        discussion: "Configuration comes from environment variables; see README.md.",
        subcommands: [BrokerCommand.self]
    )
}
