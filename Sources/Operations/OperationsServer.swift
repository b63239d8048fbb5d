import HTTPTypes
import Hummingbird
import Logging
import PostgresNIO
import Prometheus
import Shared

/// The internal operations port of every process (the API's `METRICS_PORT`, a worker's `WORKER_HTTP_PORT`):
/// `/health` and `/metrics`, never published to the internet (compose publishes no such port; the Kubernetes
/// Services do not route to it; Prometheus and the kubelet reach it inside the cluster).
public enum OperationsServer {
    /// What a process needs to do its work, and so what its `/health` (its readiness) requires.
    public enum Needs: Sendable {
        /// The database and the broker: a worker without its broker has nothing to do.
        case databaseAndBroker
        /// The database only: the API serves provider callbacks, call flows and every REST read and write with the
        /// broker down (jobs wait in the outbox), so a broker outage must not take it out of its load balancer.
        /// The broker is still reported (`"status": "degraded"`).
        case database
    }

    /// `/health`: 200 when what the process `needs` answers, 503 naming what does not; the broker is always
    /// reported. The database has `databaseTimeout` to answer: with its server gone the pool waits for a
    /// connection without end, and a probe that never answers is worse than one that says "unavailable".
    public static func health(
        database: PostgresClient, brokerProbe: KafkaBrokerProbe?, needs: Needs = .databaseAndBroker,
        databaseTimeout: Duration = .seconds(2), logger: Logger
    ) async -> (healthy: Bool, body: JSONValue) {
        let databaseOK = await withTaskGroup(of: Bool.self) { group in
            group.addTask { (try? await database.query("SELECT 1", logger: logger)) != nil }
            group.addTask {
                try? await Task.sleep(for: databaseTimeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        let brokerOK = brokerProbe?.isReachable ?? true
        let healthy =
            switch needs {
            case .databaseAndBroker: databaseOK && brokerOK
            case .database: databaseOK
            }
        let body: JSONValue = [
            "status": .string(!healthy ? "unavailable" : databaseOK && brokerOK ? "ok" : "degraded"),
            "database": .string(databaseOK ? "ok" : "unavailable"),
            "broker": .string(brokerProbe == nil ? "not configured" : brokerOK ? "ok" : "unavailable"),
        ]
        return (healthy, body)
    }

    public static func application(
        host: String, port: Int, serverName: String, database: PostgresClient, brokerProbe: KafkaBrokerProbe?,
        needs: Needs = .databaseAndBroker, metrics: PrometheusCollectorRegistry, logger: Logger
    ) -> some ApplicationProtocol {
        let router = Router()
        router.get("health") { _, _ -> Response in
            let (healthy, body) = await health(database: database, brokerProbe: brokerProbe, needs: needs, logger: logger)
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
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: serverName),
            logger: logger)
    }
}
