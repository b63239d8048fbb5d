import HTTPTypes
import Hummingbird
import Logging
import PostgresNIO
import Prometheus
import Shared

/// `/health` and `/metrics` of a worker process.
enum OperationsServer {
    static func application(
        host: String, port: Int, database: PostgresClient, brokerProbe: KafkaBrokerProbe,
        metrics: PrometheusCollectorRegistry, logger: Logger
    ) -> some ApplicationProtocol {
        let router = Router()
        router.get("health") { _, _ -> Response in
            let databaseOK = (try? await database.query("SELECT 1", logger: logger)) != nil
            let brokerOK = brokerProbe.isReachable
            let healthy = databaseOK && brokerOK
            let body: JSONValue = [
                "status": .string(healthy ? "ok" : "unavailable"),
                "database": .string(databaseOK ? "ok" : "unavailable"),
                "broker": .string(brokerOK ? "ok" : "unavailable"),
            ]
            return Response(
                status: healthy ? .ok : .serviceUnavailable,
                headers: [.contentType: "application/json; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: JSONSerializer.string(body))))
        }
        router.get("metrics") { _, _ -> Response in
            var buffer: [UInt8] = []
            metrics.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: buffer)))
        }
        return Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "scfm-worker"),
            logger: logger)
    }
}
