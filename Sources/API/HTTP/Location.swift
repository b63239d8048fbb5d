import HTTPTypes
import Hummingbird

/// Absolute URLs for `Location` headers, built from the request's host as Rails' `*_url` helpers do.
enum Location {
    static func url(_ request: Request, path: String) -> String {
        let host = request.head.authority ?? "localhost"
        let scheme = request.headers[HTTPField.Name("X-Forwarded-Proto")!] ?? "http"
        return "\(scheme)://\(host)\(path)"
    }
}
