import Foundation
import Logging
import Synchronization

/// One JSON object per line on standard error (`LOG_FORMAT=json`, the default), or a readable line
/// (`LOG_FORMAT=text`). Fields: time, level, label, message and the metadata (request id, record ids, …).
public struct StructuredLogHandler: LogHandler {
    public enum Format: String, Sendable { case json, text }

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let format: Format

    private static let output = Mutex<Void>(())

    public init(label: String, level: Logger.Level, format: Format) {
        self.label = label
        self.logLevel = level
        self.format = format
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let time = Timestamp.iso8601(Date())
        var line: String
        switch format {
        case .json:
            var object: JSONObject = [
                "time": .string(time), "level": .string(event.level.rawValue), "label": .string(label),
                "message": .string(event.message.description),
            ]
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) { object[key] = Self.json(value) }
            line = JSONSerializer.string(.object(object))
        case .text:
            line = "\(time) \(event.level.rawValue.uppercased()) \(label): \(event.message)"
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) { line += " \(key)=\(value)" }
        }
        line += "\n"
        Self.output.withLock { _ in FileHandle.standardError.write(Data(line.utf8)) }
    }

    private static func json(_ value: Logger.MetadataValue) -> JSONValue {
        switch value {
        case .string(let string): return .string(string)
        case .stringConvertible(let convertible): return .string(convertible.description)
        case .array(let array): return .array(array.map(json))
        case .dictionary(let dictionary):
            var object = JSONObject()
            for (key, value) in dictionary.sorted(by: { $0.key < $1.key }) { object[key] = json(value) }
            return .object(object)
        }
    }

    /// Installs the handler for the whole process from `LOG_LEVEL` and `LOG_FORMAT`.
    public static func bootstrap(environment: EnvironmentVariables) throws {
        let level = try Logger.Level(
            rawValue: environment.oneOf(
                "LOG_LEVEL", Logger.Level.allCases.map(\.rawValue), default: Logger.Level.info.rawValue))!
        let format = Format(rawValue: try environment.oneOf("LOG_FORMAT", ["json", "text"], default: "json"))!
        LoggingSystem.bootstrap { label in StructuredLogHandler(label: label, level: level, format: format) }
    }
}
