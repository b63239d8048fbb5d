import NIOCore
import PostgresNIO

/// `JSONValue` binds as `jsonb` and decodes from `jsonb` or `json` columns, keeping key order as Postgres
/// returns it.
extension JSONValue: PostgresNonThrowingEncodable, PostgresDecodable {
    public static var psqlType: PostgresDataType { .jsonb }
    public static var psqlFormat: PostgresFormat { .binary }

    /// jsonb's binary format is a version byte followed by the JSON text.
    private static let jsonbVersion: UInt8 = 1

    public func encode<JSONEncoder: PostgresJSONEncoder>(
        into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>
    ) {
        byteBuffer.writeInteger(Self.jsonbVersion)
        byteBuffer.writeString(JSONSerializer.string(self))
    }

    public init<JSONDecoder: PostgresJSONDecoder>(
        from byteBuffer: inout ByteBuffer, type: PostgresDataType, format: PostgresFormat,
        context: PostgresDecodingContext<JSONDecoder>
    ) throws {
        switch (type, format) {
        case (.jsonb, .binary):
            guard byteBuffer.readInteger(as: UInt8.self) == Self.jsonbVersion else {
                throw PostgresDecodingError.Code.failure
            }
        case (.jsonb, .text), (.json, _), (.text, _), (.varchar, _):
            break
        default:
            throw PostgresDecodingError.Code.typeMismatch
        }
        let bytes = byteBuffer.readBytes(length: byteBuffer.readableBytes) ?? []
        do {
            self = try JSONParser.parse(bytes)
        } catch {
            throw PostgresDecodingError.Code.failure
        }
    }
}

/// Arrays of documents bind as `jsonb[]`, for bulk writes through UNNEST.
extension JSONValue: PostgresArrayEncodable {
    public static var psqlArrayType: PostgresDataType { .jsonbArray }
}
