/// One page of an index: the records and the total count of every match.
public struct Page<Record: Sendable>: Sendable {
    public let records: [Record]
    public let total: Int64
    public let pageRequest: PageRequest
}

/// `page` and `per_page`, lenient as Kaminari is: a missing or unreadable value falls back to the default.
public struct PageRequest: Sendable, Equatable {
    public static let defaultPerPage = 25
    /// A cap that keeps one request's memory and time bounded.
    public static let maximumPerPage = 1000

    public let page: Int
    public let perPage: Int

    /// Beyond any table's row count, and small enough that `offset` cannot overflow: a client's
    /// `page=474563344352825536` reads as an empty page past the end, not a crash.
    public static let maximumPage = 1_000_000_000

    public init(page: Int = 1, perPage: Int = PageRequest.defaultPerPage) {
        self.page = min(max(1, page), Self.maximumPage)
        self.perPage = min(max(1, perPage), Self.maximumPerPage)
    }

    public init(page: String?, perPage: String?) {
        self.init(
            page: page.flatMap { Int($0) } ?? 1,
            perPage: perPage.flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil } ?? Self.defaultPerPage)
    }

    public var offset: Int { (page - 1) * perPage }

    public func lastPage(total: Int64) -> Int { max(1, Int((total + Int64(perPage) - 1) / Int64(perPage))) }

    /// The total of every match, counted only when the page cannot tell it: a page that holds fewer rows than
    /// `per_page` (and is not past the end) is the last one, so the total is the rows before it plus its own.
    public func total(recordsOnPage: Int, count: () async throws -> Int64) async throws -> Int64 {
        if recordsOnPage > 0 && recordsOnPage < perPage || recordsOnPage == 0 && page == 1 {
            return Int64(offset + recordsOnPage)
        }
        return try await count()
    }

    /// Appends ORDER BY id, LIMIT and OFFSET.
    public func appendOrderAndLimit(to sql: inout SQLBuilder, idColumn: TrustedSQL) {
        sql.append(" ORDER BY ")
        sql.append(trusted: idColumn)
        sql.append(" LIMIT ")
        sql.bind(perPage)
        sql.append(" OFFSET ")
        sql.bind(offset)
    }
}
