#!/usr/bin/env bash
# `make fuzz`: schemathesis (PyPI) against the running API with its own OpenAPI document
# (/api/openapi.json). Starts a throwaway PostgreSQL (.scfm/fuzz-postgres), the local broker and the API,
# seeds one record of each kind so that the member routes have something to find, and fails on any 5xx or
# any response that contradicts the document (status, content type, headers, body schema).
#   FUZZ_EXAMPLES   test cases per operation and phase (default 20)
#   FUZZ_SEED       schemathesis seed, to replay a run
set -euo pipefail
cd "$(dirname "$0")/.."

PG_PORT="${SCFM_FUZZ_POSTGRES_PORT:-5437}"
API_PORT="${SCFM_FUZZ_API_PORT:-3998}"
ROOT="$PWD"
DATA="$ROOT/.scfm/fuzz-postgres"
PYTHON="$(scripts/python-venv.sh)"

swift build --product API
swift build --product Workers
BIN="$(swift build --show-bin-path)"

children=()
cleanup() {
    # Newest first: the API stops before the broker it publishes to.
    for ((i = ${#children[@]} - 1; i >= 0; i--)); do
        kill -TERM "${children[$i]}" 2>/dev/null || true
        wait "${children[$i]}" 2>/dev/null || true
    done
    "$ROOT/scripts/postgres.sh" stop "$DATA"
}
trap cleanup EXIT
scripts/postgres.sh stop "$DATA"
rm -rf "$DATA"
PG_FSYNC=off scripts/postgres.sh start "$DATA" "$PG_PORT"
scripts/create-database.sh "$PG_PORT" scfm_fuzz

export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/scfm_fuzz"
export LOG_LEVEL="${LOG_LEVEL:-error}"
export PORT="$API_PORT"
export SECRETS_KEY="${SECRETS_KEY:-$(head -c 32 /dev/urandom | base64)}"
rm -f .scfm/fuzz-kafka-bootstrap
"$BIN/Workers" broker --bootstrap-file .scfm/fuzz-kafka-bootstrap &
children+=($!)
for _ in $(seq 1 100); do [ -s .scfm/fuzz-kafka-bootstrap ] && break; sleep 0.1; done
export KAFKA_BROKERS="$(cat .scfm/fuzz-kafka-bootstrap)"

"$BIN/API" migrate
"$BIN/API" create-super-admin --token-file .scfm/fuzz-token >/dev/null
TOKEN="$(cat .scfm/fuzz-token)"
# The fuzzer hammers one token: no request rate limit here (AbuseLimitsTests covers it).
METRICS_PORT="${FUZZ_METRICS_PORT:-9389}" API_RATE_LIMIT_PER_SECOND=0 "$BIN/API" serve &
children+=($!)
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$API_PORT/health" >/dev/null && break; sleep 0.2; done

# One record of each kind (ids 1, 2, …), for the routes that read, update or delete one.
api() { curl -sf -u "$TOKEN:" -H 'Content-Type: application/json' -X POST "http://127.0.0.1:$API_PORT$1" -d "$2" >/dev/null; }
for n in 1 2 3; do api /api/contacts "{\"msisdn\":\"+85512345${n}00\",\"metadata\":{\"gender\":\"f\"}}"; done
api /api/callouts '{"call_flow_logic":"CallFlowLogic::HelloWorld","metadata":{"name":"fuzz"}}'
api /api/callouts/1/callout_participations '{"contact_id":1}'
api /api/callout_participations/1/phone_calls '{"remote_request_params":{"url":"https://demo.twilio.com/docs/voice.xml"}}'
api /api/callouts/1/batch_operations '{"type":"BatchOperation::CalloutPopulation","parameters":{"contact_filter_params":{"metadata":{"gender":"f"}}}}'
api /api/callouts/1/callout_populations '{"contact_filter_params":{"metadata":{"gender":"f"}}}'

mkdir -p .scfm/fuzz-report
# From .scfm, so that schemathesis keeps its replay cache (.schemathesis/) there, out of the checkout.
cd .scfm
api_pid="${children[${#children[@]}-1]}"
started_at="$(date +%s)"
status=0
"$(dirname "$PYTHON")/schemathesis" run "http://127.0.0.1:$API_PORT/api/openapi.json" \
    --auth "$TOKEN:" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
    --phases examples,coverage,fuzzing,stateful \
    --max-examples "${FUZZ_EXAMPLES:-20}" ${FUZZ_SEED:+--seed "$FUZZ_SEED"} \
    --workers 4 --generation-database none --no-color \
    --report junit --report-dir fuzz-report || status=$?
[ "$status" -eq 0 ] && exit 0
# A failed check is the API's fault and fails the run. Schemathesis also reports its own crashes as errors (a
# KeyError inside its coverage phase was seen): those fail the run only if the API went away meanwhile or the
# error is about reaching it.
python3 - "$started_at" <<'PY' || exit 1
import glob, os, sys, xml.etree.ElementTree as ET
reports = [path for path in glob.glob("fuzz-report/junit-*.xml") if os.path.getmtime(path) >= int(sys.argv[1])]
if not reports:
    sys.exit("make fuzz: schemathesis wrote no report")
failures, errors = [], []
for testcase in ET.parse(max(reports, key=os.path.getmtime)).iter("testcase"):
    for child in testcase:
        text = (child.get("message") or "") + (child.text or "")
        if child.tag == "failure":
            failures.append(testcase.get("name"))
        elif child.tag == "error":
            errors.append((testcase.get("name"), text))
reaching = [name for name, text in errors if any(word in text for word in ("ConnectionError", "Timeout", "RemoteDisconnected", "Connection refused"))]
if failures or reaching or not errors:
    sys.exit(f"make fuzz: failed checks in {failures or reaching or 'the run'}")
print("make fuzz: no check failed; schemathesis itself raised errors in " + ", ".join(name for name, _ in errors) + " (see above)")
PY
kill -0 "$api_pid" 2>/dev/null || { echo "make fuzz: the API died during the run" >&2; exit 1; }
