#!/usr/bin/env bash
# The GETTING_STARTED walk of the SCFM documentation, against a running `make run`: an account and its token,
# contacts, a callout populated by a batch operation, phone calls created and queued by batch operations,
# statistics. Prints each request and its answer; stops at the first unexpected status.
# Usage: scripts/walkthrough.sh [BASE_URL]   (default http://127.0.0.1:3000)
set -euo pipefail
cd "$(dirname "$0")/.."
BASE="${1:-http://127.0.0.1:3000}"
SUPER="$(cat .scfm/super-admin-token)"

# call METHOD PATH EXPECTED_STATUS TOKEN [curl args…]: prints the answer, leaves its body in $BODY.
call() {
    local method=$1 path=$2 expected=$3 token=$4
    shift 4
    local output status
    output=$(curl -s -g -w '\n%{http_code}' -X "$method" "$BASE$path" -u "$token:" "$@")
    status=${output##*$'\n'}
    BODY=${output%$'\n'*}
    echo "$method $path → $status"
    [ -n "$BODY" ] && echo "$BODY" | head -c 600 && echo
    [ "$status" = "$expected" ] || { echo "expected $expected" >&2; exit 1; }
}
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)" <<<"$BODY"; }

call POST /api/accounts 201 "$SUPER" -d "metadata[name]=Walkthrough"
ACCOUNT=$(field '["id"]')
call POST /api/access_tokens 201 "$SUPER" -d "account_sid=$ACCOUNT"
TOKEN=$(field '["token"]')

call POST /api/contacts 201 "$TOKEN" --data-urlencode "msisdn=+252662345678" -d "metadata[name]=Alice" -d "metadata[gender]=f"
ALICE=$(field '["id"]')
call POST /api/contacts 201 "$TOKEN" --data-urlencode "msisdn=+252662345679" -d "metadata[name]=Bob" -d "metadata[gender]=m"
call GET "/api/contacts?q[metadata][gender]=f" 200 "$TOKEN"

call POST /api/callouts 201 "$TOKEN"
CALLOUT=$(field '["id"]')
call PATCH "/api/callouts/$CALLOUT" 204 "$TOKEN" -d call_flow_logic=CallFlowLogic::Application -d "metadata[name]=my+callout"
call POST "/api/callouts/$CALLOUT/batch_operations" 201 "$TOKEN" -d type=BatchOperation::CalloutPopulation \
    -d "parameters[contact_filter_params][metadata][gender]=f"
POPULATION=$(field '["id"]')
call GET "/api/batch_operations/$POPULATION/preview/contacts" 200 "$TOKEN"
call POST "/api/batch_operations/$POPULATION/batch_operation_events" 201 "$TOKEN" -d event=queue
wait_finished() {
    for _ in $(seq 1 100); do
        call GET "/api/batch_operations/$1" 200 "$TOKEN" >/dev/null
        [ "$(field '["status"]')" = finished ] && { echo "batch operation $1 finished: $(field '["progress"]')"; return; }
        sleep 0.2
    done
    echo "batch operation $1 did not finish" >&2
    exit 1
}
wait_finished "$POPULATION"
call GET "/api/callouts/$CALLOUT/contacts" 200 "$TOKEN"
call POST "/api/callouts/$CALLOUT/callout_events" 201 "$TOKEN" -d event=start

call POST /api/batch_operations 201 "$TOKEN" -d type=BatchOperation::PhoneCallCreate \
    -d "parameters[callout_filter_params][status]=running" \
    -d "parameters[callout_participation_filter_params][no_phone_calls_or_last_attempt]=failed,errored" \
    --data-urlencode "parameters[remote_request_params][from]=1234" \
    --data-urlencode "parameters[remote_request_params][url]=https://demo.twilio.com/docs/voice.xml" \
    -d "parameters[remote_request_params][method]=GET" -d "parameters[limit]=30"
CREATE=$(field '["id"]')
call POST "/api/batch_operations/$CREATE/batch_operation_events" 201 "$TOKEN" -d event=queue
wait_finished "$CREATE"
call GET "/api/batch_operations/$CREATE/phone_calls" 200 "$TOKEN"

call POST /api/batch_operations 201 "$TOKEN" -d type=BatchOperation::PhoneCallQueue \
    -d "parameters[callout_filter_params][status]=running" -d "parameters[phone_call_filter_params][status]=created" \
    -d "parameters[limit]=30"
QUEUE=$(field '["id"]')
call POST "/api/batch_operations/$QUEUE/batch_operation_events" 201 "$TOKEN" -d event=queue
wait_finished "$QUEUE"
call GET "/api/phone_calls?q[status]=queued" 200 "$TOKEN"
call GET "/api/callouts/$CALLOUT/callout_statistics" 200 "$TOKEN"
call GET "/api/contacts/$ALICE/callout_participations" 200 "$TOKEN"
echo "walkthrough complete"
