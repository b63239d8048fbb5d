import HTTPTypes
import Hummingbird
import Logging
import Operations
import PostgresNIO
import Shared

/// `/health` for load balancers and orchestrators and `/api/openapi.json` for clients on the public port;
/// neither needs a token. `/metrics` is served only on the internal port (`METRICS_PORT`, OperationsServer):
/// the public port never shows the process's counters.
struct OperationsController {
    let database: PostgresClient
    let brokerProbe: KafkaBrokerProbe?
    let logger: Logger

    func addRoutes(to router: Router<APIRequestContext>) {
        router.get("health", use: health)
        router.get("api/openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.bytes)))
        }
    }

    /// 200 when the database answers and the broker is reachable; 503 naming what is not.
    @Sendable func health(_ request: Request, context: APIRequestContext) async throws -> Response {
        let (healthy, body) = await OperationsServer.health(database: database, brokerProbe: brokerProbe, logger: logger)
        return JSONResponse.make(healthy ? .ok : .serviceUnavailable, body)
    }
}
