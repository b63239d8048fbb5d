import ArgumentParser
import Foundation
import Logging
import Shared

/// `API dead-letters list|replay`: the messages workers gave up on (a poison message, or a job that kept
/// failing for its five attempts), and sending them again once the cause is fixed (docs/runbook.md).
struct DeadLettersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead-letters",
        abstract: "List dead-lettered messages, or send them again through the outbox once their cause is fixed.",
        subcommands: [List.self, Replay.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The newest dead letters: id, topic, place, attempts, error, payload.")

        @Option(help: "Only this topic, as published (with KAFKA_TOPIC_PREFIX).")
        var topic: String?

        @Option(help: "At most this many (1…10000).")
        var limit = 50

        func validate() throws {
            guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be within 1…10000") }
        }

        func run() async throws {
            let (topic, limit) = (self.topic, self.limit)
            let letters = try await commandDatabase(label: "scfm.dead-letters") { client, logger in
                try await DeadLetterRepository(client: client, logger: logger).list(topic: topic, limit: limit)
            }
            if letters.isEmpty {
                print("No dead letters.")
                return
            }
            for letter in letters {
                print(
                    "\(letter.id)\t\(Timestamp.iso8601(letter.createdAt))\t\(letter.topic)[\(letter.partition)]@\(letter.offset)"
                        + "\tkey=\(letter.key ?? "-")\tattempts=\(letter.attempts)\t\(letter.error)\t\(letter.preview)")
            }
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write dead letters back to the outbox (removed from dead_letters in the same transaction).",
            discussion: """
                Name the letters with --id (repeatable), or every letter of a --topic, or --all. Poison messages \
                (not JSON) and letters of unknown topics are left where they are and reported. Every consumer \
                group of the topic sees a replayed job; the handlers ignore what is already done.
                """)

        @Option(name: .customLong("id"), help: "A dead letter's id (repeat for several).")
        var ids: [Int64] = []

        @Option(help: "Every dead letter of this topic, as published (with KAFKA_TOPIC_PREFIX).")
        var topic: String?

        @Flag(help: "Every dead letter.")
        var all = false

        @Option(help: "At most this many in one run (1…100000), oldest first.")
        var limit = 10_000

        func validate() throws {
            guard !ids.isEmpty || topic != nil || all else { throw ValidationError("name what to replay: --id, --topic or --all") }
            guard (1...100_000).contains(limit) else { throw ValidationError("--limit must be within 1…100000") }
        }

        func run() async throws {
            let prefix = try KafkaConfiguration(environment: EnvironmentVariables()).topicPrefix
            let (ids, topic, limit) = (self.ids.isEmpty ? nil : self.ids, self.topic, self.limit)
            let result = try await commandDatabase(label: "scfm.dead-letters") { client, logger in
                try await DeadLetterRepository(client: client, logger: logger).replay(ids: ids, topic: topic, topicPrefix: prefix, limit: limit)
            }
            print("Replayed \(result.replayed.count) dead letter(s) through the outbox.")
            for (id, reason) in result.skipped { print("Left \(id): \(reason)") }
        }
    }
}
