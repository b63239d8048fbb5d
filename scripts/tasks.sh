#!/usr/bin/env bash
# The task quick start of SCFM's first documentation, against a running `make run`: an account with three
# contacts, then `API task` commands: create a callout, populate it, start it, enqueue its calls, let the
# workers dial them, queue remote fetches, print the statistics. Stops at the first failing command.
# Usage: scripts/tasks.sh [BASE_URL]   (default http://127.0.0.1:3000)
set -euo pipefail
cd "$(dirname "$0")/.."
BASE="${1:-http://127.0.0.1:3000}"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:${SCFM_POSTGRES_PORT:-5433}/scfm}"
API=.build/release/API
SUPER=$(cat .scfm/super-admin-token)
json() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

ACCOUNT=$(curl -sf -X POST "$BASE/api/accounts" -u "$SUPER:" -d "metadata[name]=tasks" | json id)
TOKEN=$(curl -sf -X POST "$BASE/api/access_tokens" -u "$SUPER:" -d account_sid="$ACCOUNT" | json token)
for n in 1 2 3; do
    curl -sf -X POST "$BASE/api/contacts" -u "$TOKEN:" --data-urlencode "msisdn=+8551020$ACCOUNT$n" >/dev/null
done
echo "account $ACCOUNT with 3 contacts"

set -x
CALLOUTS_TASK_CREATE_METADATA='{"name":"tasks quick start"}' $API task callouts create --account-id "$ACCOUNT"
CALLOUTS_TASK_POPULATE_METADATA='{"source":"task"}' $API task callouts populate --account-id "$ACCOUNT"
$API task callouts statistics --account-id "$ACCOUNT"
CALLOUTS_TASK_ACTION=start $API task callouts run --account-id "$ACCOUNT"
ENQUEUE_CALLS_TASK_MAX_CALLS_TO_ENQUEUE=30 ENQUEUE_CALLS_TASK_ENQUEUE_STRATEGY=optimistic \
ENQUEUE_CALLS_TASK_DEFAULT_SOMLENG_REQUEST_PARAMS='{"from":"1234","url":"http://demo.twilio.com/docs/voice.xml","method":"GET"}' \
    $API task enqueue-calls --account-id "$ACCOUNT"
sleep 3
PHONE_CALL_TIME_CONSIDERED_RECENTLY_CREATED_SECONDS=0 $API task update-calls --account-id "$ACCOUNT"
sleep 2
$API task callouts statistics --account-id "$ACCOUNT"
CALLOUTS_TASK_ACTION=stop $API task callouts run --account-id "$ACCOUNT"
