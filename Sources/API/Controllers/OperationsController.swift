import HTTPTypes
import Hummingbird
import Logging
import PostgresNIO
import Prometheus
import Shared

/// `/health` for load balancers and orchestrators, `/metrics` for Prometheus, `/api/openapi.json` for
/// clients. None needs a token.
struct OperationsController {
    let database: PostgresClient
    let brokerProbe: KafkaBrokerProbe?
    let metrics: PrometheusCollectorRegistry?
    let logger: Logger

    func addRoutes(to router: Router<APIRequestContext>) {
        router.get("health", use: health)
        router.get("metrics", use: prometheus)
        router.get("api/openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.bytes)))
        }
    }

    /// 200 when the database answers and the broker is reachable; 503 naming what is not.
    @Sendable func health(_ request: Request, context: APIRequestContext) async throws -> Response {
        var databaseOK = true
        do {
            try await database.query("SELECT 1", logger: logger)
        } catch {
            databaseOK = false
        }
        let brokerOK = brokerProbe?.isReachable ?? true
        let healthy = databaseOK && brokerOK
        let body: JSONValue = [
            "status": .string(healthy ? "ok" : "unavailable"),
            "database": .string(databaseOK ? "ok" : "unavailable"),
            "broker": .string(brokerProbe == nil ? "not configured" : brokerOK ? "ok" : "unavailable"),
        ]
        return JSONResponse.make(healthy ? .ok : .serviceUnavailable, body)
    }

    @Sendable func prometheus(_ request: Request, context: APIRequestContext) async throws -> Response {
        var buffer: [UInt8] = []
        metrics?.emit(into: &buffer)
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: buffer)))
    }
}
