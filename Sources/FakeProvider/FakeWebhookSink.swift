import Foundation
import Hummingbird
import NIOCore
import Shared
import Synchronization

/// A webhook receiver for local mode, demos and tests: `POST /_fake/webhooks/{name}` takes SCFM's outbound
/// webhook deliveries and keeps them; `GET /_fake/webhooks/{name}` lists what arrived (with whether the
/// signature checked out against `?secret=`). `?fail=N` answers the first N attempts of each delivery with
/// 500, and `?delay_ms=` answers late, to watch retries and a slow endpoint. `?redirect_to=URL` answers 302 to
/// that URL (an attacker's endpoint pointing SCFM at an internal service: the outbound policy never follows it).
final class FakeWebhookSink: Sendable {
    struct Received: Sendable {
        let name: String
        let deliveryID: String
        let event: String
        let signature: String
        let body: [UInt8]
        let at: Date
        let answered: Int
    }

    private let received = Mutex<[Received]>([])
    private let attempts = Mutex<[String: Int]>([:])

    func add(to router: Router<BasicRequestContext>) {
        router.post("_fake/webhooks/:name") { request, context in try await self.receive(request, context) }
        router.get("_fake/webhooks/:name") { request, context in self.list(request, context) }
    }

    private func receive(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let name = context.parameters.get("name") ?? ""
        let body = Array(buffer: try await request.body.collect(upTo: 1 << 20))
        let query = request.uri.queryParameters
        if let delay = query.get("delay_ms", as: Int.self), delay > 0 { try await Task.sleep(for: .milliseconds(delay)) }
        let delivery = request.headers[.init("X-SCFM-Delivery")!] ?? ""
        let attempt = attempts.withLock { counts -> Int in
            counts["\(name)/\(delivery)", default: 0] += 1
            return counts["\(name)/\(delivery)"]!
        }
        let failures = query.get("fail", as: Int.self) ?? 0
        let redirect = query.get("redirect_to").map { String($0) }
        let status = redirect != nil ? 302 : attempt <= failures ? 500 : 200
        received.withLock {
            $0.append(
                Received(
                    name: name, deliveryID: delivery, event: request.headers[.init("X-SCFM-Event")!] ?? "",
                    signature: request.headers[.init(WebhookSignature.header)!] ?? "", body: body, at: Date(), answered: status))
        }
        if let redirect {
            return Response(status: .found, headers: [.location: redirect], body: .init())
        }
        return FakeProviderServer.json(status == 200 ? .ok : .internalServerError, ["received": .bool(status == 200)])
    }

    private func list(_ request: Request, _ context: BasicRequestContext) -> Response {
        let name = context.parameters.get("name") ?? ""
        let secret = request.uri.queryParameters.get("secret").map { String($0) }
        let items = received.withLock { $0.filter { $0.name == name } }
        return FakeProviderServer.json(
            .ok,
            .array(
                items.map { item in
                    [
                        "delivery_id": .string(item.deliveryID), "event": .string(item.event), "answered": .integer(Int64(item.answered)),
                        "at": .timestamp(item.at),
                        // Checked as the receiver would on arrival: the timestamp's tolerance runs from then, not from
                        // whenever the sink is read (a long campaign's first deliveries are older than it by the end).
                        "signature_valid": secret.map {
                            JSONValue.bool(WebhookSignature.isValid(header: item.signature, body: item.body, secret: $0, now: item.at))
                        } ?? .null,
                        "body": (try? JSONParser.parse(item.body)) ?? .null,
                    ]
                }))
    }
}
