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
    let fallback: CallFlowFallback
    let logger: Logger

    func addRoutes(to router: Router<APIRequestContext>) {
        router.get("health", use: health)
        // The provider's FallbackUrl (CallFlowFallback): static, no token, no database, nothing of any tenant.
        let fallbackResponse = { @Sendable (_: Request, _: APIRequestContext) -> Response in
            Response(
                status: .ok, headers: [.contentType: TwiML.contentType],
                body: ResponseBody(byteBuffer: ByteBuffer(string: fallback.twiml.xml)))
        }
        router.get(RouterPath(String(CallFlowFallback.path.dropFirst())), use: fallbackResponse)
        router.post(RouterPath(String(CallFlowFallback.path.dropFirst())), use: fallbackResponse)
        router.get("api/openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.bytes)))
        }
    }

    /// The API's readiness: 200 when the database answers (with the broker down it still serves callbacks and
    /// call flows, and reports `"status": "degraded"`); 503 when the database does not.
    @Sendable func health(_ request: Request, context: APIRequestContext) async throws -> Response {
        let (healthy, body) = await OperationsServer.health(database: database, brokerProbe: brokerProbe, needs: .database, logger: logger)
        return JSONResponse.make(healthy ? .ok : .serviceUnavailable, body)
    }
}
