import ArgumentParser

@main
struct BenchmarksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "Benchmarks",
        abstract: "Performance figures for docs/benchmarks.md; `make bench` runs them against a local cluster.",
        subcommands: [
            ContactsIndexBenchmark.self, OutboxThroughputBenchmark.self, CampaignBenchmark.self, DispatchBenchmark.self, AutopilotBenchmark.self,
            CallbacksBenchmark.self, ContactsImportBenchmark.self, ConsolePagesBenchmark.self,
        ]
    )
}
