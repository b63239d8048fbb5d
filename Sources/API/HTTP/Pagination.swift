import HTTPTypes
import Hummingbird
import Shared

/// The pagination headers of SCFM (api-pagination): `Per-Page`, `Total`, and `Link` with first/prev/next/last
/// when there is more than one page.
enum Pagination {
    static func pageRequest(_ request: Request) -> PageRequest {
        let query = request.uri.queryParameters
        return PageRequest(page: query["page"].map(String.init), perPage: query["per_page"].map(String.init))
    }

    static func response<Record>(
        _ page: Page<Record>, request: Request, render: (Record) -> JSONValue
    ) -> Response {
        var headers: HTTPFields = [
            .perPage: String(page.pageRequest.perPage),
            .total: String(page.total),
        ]
        if let link = linkHeader(page, request: request) { headers[.link] = link }
        return JSONResponse.make(.ok, .array(page.records.map(render)), headers: headers)
    }

    static func linkHeader<Record>(_ page: Page<Record>, request: Request) -> String? {
        let current = page.pageRequest.page
        let last = page.pageRequest.lastPage(total: page.total)
        guard last > 1 else { return nil }
        var links: [(String, Int)] = []
        if current > 1 {
            links.append(("first", 1))
            links.append(("prev", min(current - 1, last)))
        }
        if current < last {
            links.append(("next", current + 1))
            links.append(("last", last))
        }
        guard !links.isEmpty else { return nil }
        let base = Location.url(request, path: request.uri.path)
        let otherParameters = (request.uri.query ?? "").split(separator: "&").filter {
            !$0.hasPrefix("page=") && $0 != "page"
        }
        return links.map { rel, number in
            let query = (otherParameters + ["page=\(number)"]).joined(separator: "&")
            return "<\(base)?\(query)>; rel=\"\(rel)\""
        }.joined(separator: ", ")
    }
}
