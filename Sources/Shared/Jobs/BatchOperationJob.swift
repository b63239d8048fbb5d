/// The message of `batch-operations`: run this operation. Keyed by the operation id. The operation's row
/// (status, checkpoint) says what is left to do, so a redelivered job resumes or does nothing.
public struct BatchOperationJob: Sendable, Equatable {
    public static let version: Int64 = 1

    public let batchOperationID: Int64
    public let accountID: Int64

    public init(batchOperationID: Int64, accountID: Int64) {
        self.batchOperationID = batchOperationID
        self.accountID = accountID
    }

    public var outboxEntry: OutboxEntry {
        OutboxEntry(
            topic: .batchOperations, key: String(batchOperationID),
            payload: [
                "version": .integer(Self.version), "batch_operation_id": .integer(batchOperationID),
                "account_id": .integer(accountID),
            ])
    }

    public init(payload: JSONValue) throws(PoisonMessage) {
        guard case .integer(let version)? = payload["version"], version == Self.version else {
            throw PoisonMessage("unsupported batch operation job version")
        }
        guard case .integer(let id)? = payload["batch_operation_id"], case .integer(let accountID)? = payload["account_id"]
        else { throw PoisonMessage("a batch operation job needs batch_operation_id and account_id") }
        self.init(batchOperationID: id, accountID: accountID)
    }
}
