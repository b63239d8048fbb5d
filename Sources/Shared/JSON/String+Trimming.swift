extension StringProtocol where SubSequence == Substring {
    /// The text without leading and trailing whitespace, without copying it.
    public func trimmingWhitespace() -> Substring {
        let whole = self[...]
        let start = whole.firstIndex(where: { !$0.isWhitespace }) ?? whole.endIndex
        let end = whole.lastIndex(where: { !$0.isWhitespace }).map { whole.index(after: $0) } ?? start
        return whole[start..<Swift.max(start, end)]
    }
}
