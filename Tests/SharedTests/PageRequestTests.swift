import Shared
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(2))) struct PageRequestTests {
    final class Counter: Sendable {
        let calls = Atomic<Int>(0)
        func count(_ value: Int64) -> Int64 {
            calls.add(1, ordering: .relaxed)
            return value
        }
    }

    @Test func aShortPageTellsTheTotalWithoutCounting() async throws {
        let counter = Counter()
        #expect(try await PageRequest(page: 1, perPage: 25).total(recordsOnPage: 3) { counter.count(3) } == 3)
        #expect(try await PageRequest(page: 3, perPage: 3).total(recordsOnPage: 1) { counter.count(7) } == 7)
        #expect(try await PageRequest(page: 1, perPage: 25).total(recordsOnPage: 0) { counter.count(0) } == 0)
        #expect(counter.calls.load(ordering: .relaxed) == 0)
    }

    @Test func aFullPageOrOnePastTheEndCounts() async throws {
        let counter = Counter()
        #expect(try await PageRequest(page: 2, perPage: 3).total(recordsOnPage: 3) { counter.count(7) } == 7)
        #expect(try await PageRequest(page: 9, perPage: 3).total(recordsOnPage: 0) { counter.count(7) } == 7)
        #expect(counter.calls.load(ordering: .relaxed) == 2)
    }

    @Test func unreadableValuesFallBackAndPerPageIsCapped() {
        #expect(PageRequest(page: "abc", perPage: "-4") == PageRequest(page: 1, perPage: 25))
        #expect(PageRequest(page: "2", perPage: "5000").perPage == PageRequest.maximumPerPage)
        #expect(PageRequest(page: 3, perPage: 10).offset == 20)
    }

    /// Found by `make fuzz`: a page number near Int.max overflowed the offset and crashed the API.
    @Test func aHugePageIsAnEmptyPageNotAnOverflow() {
        let request = PageRequest(page: "474563344352825536", perPage: "9491")
        #expect(request.page == PageRequest.maximumPage)
        #expect(request.offset == (PageRequest.maximumPage - 1) * PageRequest.maximumPerPage)
    }
}
