/// Publishes status events to `phone-call-events` and waits for the broker's acknowledgement, so a handler
/// returns (and its job's offset is committed) only once the outcome is safe in Kafka.
public struct StatusEventPublisher: Sendable {
    let producer: KafkaProducer
    let topic: String

    public init(producer: KafkaProducer, kafka: KafkaConfiguration) {
        self.producer = producer
        topic = kafka.topic(.phoneCallEvents)
    }

    public func publish(_ event: PhoneCallStatusEvent) async throws {
        let (key, value) = event.outgoingMessage
        try await producer.send(KafkaOutgoingMessage(topic: topic, key: key, value: value))
    }
}
