import PostgresNIO

extension Error {
    /// The SQLSTATE of a server error, such as `23505` for a unique violation.
    var sqlState: String? {
        (self as? PSQLError)?.serverInfo?[.sqlState]
    }

    public var isUniqueViolation: Bool { sqlState == "23505" }
    public var isForeignKeyViolation: Bool { sqlState == "23503" }
    var isDeadlock: Bool { sqlState == "40P01" || (self as? PostgresTransactionError)?.closureError?.isDeadlock == true }
    var isLockTimeout: Bool { sqlState == "55P03" || (self as? PostgresTransactionError)?.closureError?.isLockTimeout == true }
}

extension PostgresRowSequence {
    /// The first row decoded, or nil when there is none.
    public func first<T>(_ decode: (PostgresRow) throws -> T) async throws -> T? {
        for try await row in self { return try decode(row) }
        return nil
    }

    /// The first row decoded, or `RecordNotFound` when there is none.
    public func single<T>(_ decode: (PostgresRow) throws -> T) async throws -> T {
        guard let value = try await first(decode) else { throw RecordNotFound() }
        return value
    }

    /// Every row, decoded.
    public func collect<T>(_ decode: (PostgresRow) throws -> T) async throws -> [T] {
        var values: [T] = []
        for try await row in self { values.append(try decode(row)) }
        return values
    }
}
