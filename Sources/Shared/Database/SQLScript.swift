/// Splits a migration file into its statements, since PostgresNIO sends every query through the extended
/// protocol, which takes one statement at a time. Semicolons inside quotes, dollar-quoted bodies
/// (`$$ … $$`, `$fn$ … $fn$`) and comments do not split.
enum SQLScript {
    static func statements(_ script: String) -> [String] {
        var statements: [String] = []
        var current = ""
        var characters = Array(script)[...]
        var dollarTag: String?
        var inSingleQuote = false

        func finishStatement() {
            let trimmed = current.trimmingWhitespace()
            if !trimmed.isEmpty { statements.append(String(trimmed)) }
            current = ""
        }

        while let character = characters.popFirst() {
            if let tag = dollarTag {
                current.append(character)
                if character == "$", current.hasSuffix(tag) { dollarTag = nil }
                continue
            }
            if inSingleQuote {
                current.append(character)
                if character == "'" { inSingleQuote = false }
                continue
            }
            switch character {
            case "-" where characters.first == "-":
                // A line comment: skip to the end of the line.
                while let next = characters.first, next != "\n" { characters.removeFirst() }
            case "'":
                inSingleQuote = true
                current.append(character)
            case "$":
                // `$tag$` opens a dollar-quoted string; `$1` is a parameter and stays as it is.
                let rest = characters.prefix(while: { $0.isLetter || $0.isNumber || $0 == "_" })
                if characters.dropFirst(rest.count).first == "$", rest.first?.isNumber != true {
                    let tag = "$" + String(rest) + "$"
                    current += tag
                    characters = characters.dropFirst(rest.count + 1)
                    dollarTag = tag
                } else {
                    current.append(character)
                }
            case ";":
                finishStatement()
            default:
                current.append(character)
            }
        }
        finishStatement()
        return statements
    }
}
