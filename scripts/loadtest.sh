#!/usr/bin/env bash
# `make loadtest`: HTTP throughput and latency of the API under wrk (Debian's wrk, installed by make deps).
# Release build, a PostgreSQL of its own (.scfm/loadtest-postgres, reused), an account with LOADTEST_CONTACTS
# contacts (100,000), the API on port 3997 with the outbox relay and the broker probe out of the way. Then:
#   - contacts index (GET /api/contacts, 25 a page, Total counted over the whole account),
#   - contacts index filtered by metadata (q[metadata][province]=…),
#   - contacts create (POST /api/contacts, a new msisdn each time),
# each for LOADTEST_SECONDS (30) with LOADTEST_CONNECTIONS (64) connections, printing requests/s and the
# latency percentiles beside the targets of docs/benchmarks.md (index ≥ 3,000 requests/s, p99 < 50 ms).
set -euo pipefail
cd "$(dirname "$0")/.."

PG_PORT="${SCFM_LOADTEST_POSTGRES_PORT:-5438}"
API_PORT="${SCFM_LOADTEST_API_PORT:-3997}"
DATA=.scfm/loadtest-postgres
CONTACTS="${LOADTEST_CONTACTS:-100000}"
SECONDS_EACH="${LOADTEST_SECONDS:-30}"
CONNECTIONS="${LOADTEST_CONNECTIONS:-64}"

command -v wrk >/dev/null || { echo "wrk is missing: run make deps" >&2; exit 1; }
swift build -c release --product API

source scripts/standalone-api.sh
export LOG_LEVEL=warning
standalone_database "$DATA" "$PG_PORT" scfm_loadtest "${PG_SHARED_BUFFERS:-1GB}"
psql_() { psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d scfm_loadtest -v ON_ERROR_STOP=1 -qtAc "$1"; }

# One account holding the contacts, made once and reused by later runs.
account_id="$(psql_ "SELECT id FROM accounts WHERE metadata->>'loadtest' = 'true' LIMIT 1")"
if [ -z "$account_id" ]; then
    account_id="$(.build/release/API accounts create --metadata '{"loadtest":"true"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
fi
have="$(psql_ "SELECT count(*) FROM contacts WHERE account_id = $account_id")"
if [ "$have" -lt "$CONTACTS" ]; then
    echo "seeding $((CONTACTS - have)) contacts…" >&2
    psql_ "INSERT INTO contacts (account_id, msisdn, metadata)
           SELECT $account_id, '+8551' || lpad(n::text, 8, '0'),
                  jsonb_build_object('province', 'p' || (n % 25), 'gender', CASE WHEN n % 2 = 0 THEN 'f' ELSE 'm' END)
           FROM generate_series($have + 1, $CONTACTS) AS n ON CONFLICT DO NOTHING; ANALYZE contacts"
fi
# Earlier runs' created-then-deleted contacts and their count deltas leave dead rows: start from a clean table.
psql_ "VACUUM ANALYZE contacts, account_record_count_deltas"
TOKEN="$(.build/release/API access-tokens create --account-id "$account_id")"

LOG_LEVEL=error standalone_api "$API_PORT"

LUA="$(mktemp -d)"
cat > "$LUA/report.lua" <<'EOF'
done = function(summary, latency, requests)
    local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout
    io.write(string.format("RESULT requests_per_second=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f requests=%d errors=%d\n",
        summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(90) / 1000,
        latency:percentile(99) / 1000, latency.max / 1000, summary.requests, errors))
end
EOF
cat > "$LUA/create.lua" <<'EOF'
-- A new msisdn per request: the thread id and a counter, so no two requests collide.
-- thread_id is a global: thread:set writes the thread's globals, which a local would shadow.
local counter = 0
thread_id = 0
local threads = {}
setup = function(thread)
    thread:set("thread_id", #threads + 1)
    table.insert(threads, thread)
end
-- Each run (the warm-up and the measured one) starts at its own second, so their numbers differ too.
local run = os.time()
request = function()
    counter = counter + 1
    local body = string.format('{"msisdn":"+855%02d%d%06d","metadata":{"source":"loadtest"}}', run % 100, thread_id, counter)
    -- wrk.format replaces wrk.headers (the -H Authorization) with the table it is given: copy them in.
    local headers = {["Content-Type"] = "application/json"}
    for name, value in pairs(wrk.headers) do headers[name] = value end
    return wrk.format("POST", "/api/contacts", headers, body)
end
EOF
cat "$LUA/report.lua" >> "$LUA/create.lua"
AUTH="Authorization: Bearer $TOKEN"

run() {
    local name="$1" script="$2" path="$3"
    # A short warm-up fills the connection pool and PostgreSQL's cache; it is not counted.
    wrk -t2 -c"$CONNECTIONS" -d3s -H "$AUTH" -s "$script" "http://127.0.0.1:$API_PORT$path" >/dev/null
    local result
    result="$(wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_EACH}s" --timeout 5s -H "$AUTH" -s "$script" "http://127.0.0.1:$API_PORT$path" | grep '^RESULT')"
    printf '%-28s %s\n' "$name" "${result#RESULT }"
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%Y-%m-%d); $CONTACTS contacts; $CONNECTIONS connections, wrk 2 threads, ${SECONDS_EACH}s each"
echo "target: contacts index >= 3000 requests/s, p99 < 50 ms"
run "contacts index" "$LUA/report.lua" "/api/contacts"
run "contacts index (metadata)" "$LUA/report.lua" "/api/contacts?q%5Bmetadata%5D%5Bprovince%5D=p7"
run "contacts create" "$LUA/create.lua" "/api/contacts"
rm -rf "$LUA"
# Created contacts are removed so that every run starts from the same data.
psql_ "DELETE FROM contacts WHERE account_id = $account_id AND metadata->>'source' = 'loadtest'"
