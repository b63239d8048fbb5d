import ArgumentParser

@main
struct APICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "API",
        abstract: "The SCFM REST API server and its administration commands.",
        discussion: "Configuration comes from environment variables; see README.md.",
        subcommands: [
            ServeCommand.self, MigrateCommand.self, CreateSuperAdminCommand.self, AccountsCommand.self, AccessTokensCommand.self, SecretsCommand.self,
            TrunksCommand.self, TaskCommand.self, DeadLettersCommand.self, UsersCommand.self,
        ],
        defaultSubcommand: ServeCommand.self
    )
}
