import Shared
import Testing

@Suite(.timeLimit(.minutes(2))) struct NestedQueryParserTests {
    @Test func bracketNotationBuildsNestedObjectsAndArrays() throws {
        let parsed = try NestedQueryParser.parse(
            "metadata[name]=Alice&metadata[address][city]=Phnom+Penh&permissions[]=super_admin&permissions[]=x&msisdn=%2B252662345700&flag")
        #expect(
            JSONValue.object(parsed) == [
                "metadata": ["name": "Alice", "address": ["city": "Phnom Penh"]],
                "permissions": ["super_admin", "x"],
                "msisdn": "+252662345700",
                "flag": nil,
            ])
    }

    @Test func arraysOfHashesGroupUntilAKeyRepeats() throws {
        let parsed = try NestedQueryParser.parse("items[][name]=a&items[][phone]=1&items[][name]=b")
        #expect(JSONValue.object(parsed) == ["items": [["name": "a", "phone": "1"], ["name": "b"]]])
    }

    @Test func laterValuesWinAndEscapesDecode() throws {
        let parsed = try NestedQueryParser.parse("a=1&a=2&b=%E1%9E%80%zz&q%5Bmetadata%5D%5Bgender%5D=f")
        #expect(JSONValue.object(parsed) == ["a": "2", "b": "ក%zz", "q": ["metadata": ["gender": "f"]]])
    }

    @Test(arguments: ["a=1&a[b]=2", "a[b]=1&a[]=2", "[a]=1"])
    func conflictingShapesAreRejected(_ text: String) {
        #expect(throws: NestedQueryParser.MalformedParameters.self) { try NestedQueryParser.parse(text) }
    }

    @Test func deepKeysAreRejected() {
        let key = "a" + String(repeating: "[b]", count: 100)
        #expect(throws: NestedQueryParser.MalformedParameters.self) { try NestedQueryParser.parse("\(key)=1") }
    }
}
