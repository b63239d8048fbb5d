#!/usr/bin/env bash
# `make run`: the whole system in the foreground with embedded defaults. PostgreSQL under .scfm/postgres,
# the local Kafka-protocol broker, the fake telephony provider on :${FAKE_PROVIDER_PORT:-4010} (unless
# LOCAL_PROVIDER=none), the API on http://127.0.0.1:${PORT:-3000}, and every worker role (metrics from :9090
# up). Ctrl-C or SIGTERM stops everything; the next run reuses the same data.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="${BIN:-.build/release}"
STATE=.scfm
PG_PORT="${SCFM_POSTGRES_PORT:-5433}"
mkdir -p "$STATE"

children=()
stop_all() {
    trap - INT TERM EXIT
    echo "Stopping…" >&2
    # Newest first: the API drains before the broker it publishes to goes away.
    for ((i = ${#children[@]} - 1; i >= 0; i--)); do
        [ "${children[$i]}" = "${status_pid:-}" ] && sleep 1
        kill -TERM "${children[$i]}" 2>/dev/null || true
        wait "${children[$i]}" 2>/dev/null || true
    done
    scripts/postgres.sh stop "$STATE/postgres"
    echo "Stopped." >&2
}
# A stop asked for by Ctrl-C or SIGTERM is a clean exit.
trap 'stop_all; exit 0' INT TERM
trap stop_all EXIT

scripts/postgres.sh start "$STATE/postgres" "$PG_PORT"
scripts/create-database.sh "$PG_PORT" scfm
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:$PG_PORT/scfm}"
export LOG_FORMAT="${LOG_FORMAT:-text}"

rm -f "$STATE/kafka-bootstrap"
"$BIN/Workers" broker --bootstrap-file "$STATE/kafka-bootstrap" &
children+=($!)
for _ in $(seq 1 100); do [ -s "$STATE/kafka-bootstrap" ] && break; sleep 0.1; done
[ -s "$STATE/kafka-bootstrap" ] || { echo "the local broker did not start" >&2; exit 1; }
export KAFKA_BROKERS="$(cat "$STATE/kafka-bootstrap")"
# The local broker holds each rebalance for the session timeout less a second (see KafkaConfiguration): keep
# it short so starting or stopping a worker pauses its group for about 3 s, not 9. It also answers a fetch that
# found nothing only after fetch.wait.max.ms even when messages arrive meanwhile: 100 ms, not 500
# (10 ms made the idle consumers' polling cost enough CPU to slow a 200 calls/s campaign).
export KAFKA_CONSUMER_PROPERTIES="${KAFKA_CONSUMER_PROPERTIES:-session.timeout.ms=4000;fetch.wait.max.ms=100}"
# The local broker keeps at most 5 MB a partition and drops the oldest messages past that: the relay holds a
# topic back in the outbox while its consumers are 20,000 messages behind on a partition (about 1.6 MB of queue
# jobs), so a million-call backlog waits in PostgreSQL instead of overflowing. The local broker also forgets
# everything when it stops: the scheduler's job reconciler sends again what it lost (JOB_REDELIVERY_SECONDS
# after publishing; 10 s here rather than production's 30, so a restarted `make run` resumes quickly).
export OUTBOX_MAX_PARTITION_LAG="${OUTBOX_MAX_PARTITION_LAG:-20000}"
export JOB_REDELIVERY_SECONDS="${JOB_REDELIVERY_SECONDS:-10}"

# Local mode dials the fake provider: accounts without credentials of their own use these defaults. With
# LOCAL_PROVIDER=none, PLATFORM_PROVIDER / TWILIO_* / SOMLENG_* from the environment are used as they are.
if [ "${LOCAL_PROVIDER:-fake}" = fake ]; then
    FAKE_PROVIDER_PORT="${FAKE_PROVIDER_PORT:-4010}"
    "$BIN/Workers" fake-provider --port "$FAKE_PROVIDER_PORT" &
    children+=($!)
    export PLATFORM_PROVIDER="${PLATFORM_PROVIDER:-twilio}"
    export TWILIO_ACCOUNT_SID="${TWILIO_ACCOUNT_SID:-AC00000000000000000000000000local}"
    export TWILIO_AUTH_TOKEN="${TWILIO_AUTH_TOKEN:-local}"
    export TWILIO_REST_API_BASE_URL="${TWILIO_REST_API_BASE_URL:-http://127.0.0.1:$FAKE_PROVIDER_PORT}"
    export SOMLENG_ACCOUNT_SID="${SOMLENG_ACCOUNT_SID:-AC00000000000000000000000000local}"
    export SOMLENG_AUTH_TOKEN="${SOMLENG_AUTH_TOKEN:-local}"
    export SOMLENG_CLIENT_REST_API_BASE_URL="${SOMLENG_CLIENT_REST_API_BASE_URL:-http://127.0.0.1:$FAKE_PROVIDER_PORT}"
fi
export MAX_CALLS_PER_SECOND="${MAX_CALLS_PER_SECOND:-100}"
# Where providers reach the API: the queue workers put it in every dial's StatusCallback (and Url when the call
# names no instructions), and the API checks callback signatures against it. Behind a tunnel or a proxy, set
# it to the public address.
export PUBLIC_BASE_URL="${PUBLIC_BASE_URL:-http://${HOST:-127.0.0.1}:${PORT:-3000}}"
# The installation's master key (callback URL tokens): made once into .scfm/secrets-key and kept, so that the
# callbacks of calls dialled before a restart are still recognised. Production: set SECRETS_KEY yourself.
if [ -z "${SECRETS_KEY:-}" ]; then
    [ -s "$STATE/secrets-key" ] || (umask 077; head -c 32 /dev/urandom | base64 > "$STATE/secrets-key")
    export SECRETS_KEY="$(cat "$STATE/secrets-key")"
fi
# Webhook endpoints on loopback (the fake provider's sink, a receiver on this machine) are allowed in local
# mode only; the API and the webhooks role say so when they start.
export OUTBOUND_ALLOW_PRIVATE_ADDRESSES="${OUTBOUND_ALLOW_PRIVATE_ADDRESSES:-true}"
echo "make run: OUTBOUND_ALLOW_PRIVATE_ADDRESSES=$OUTBOUND_ALLOW_PRIVATE_ADDRESSES (webhook endpoints may be private addresses; never in production)" >&2

"$BIN/API" migrate
"$BIN/API" create-super-admin --token-file "$STATE/super-admin-token"
# The operator console's first admin, of the super admin's account; its password in a 0600 file.
CONSOLE_BCRYPT_COST="${CONSOLE_BCRYPT_COST:-10}" "$BIN/API" users create --of-super-admin-account --email admin@scfm.local --role admin \
    --password-file "$STATE/console-admin-password" --if-missing

# The API's /metrics (and /health) on its internal port, 9089 here (the workers take 9090-9095).
METRICS_PORT="${API_METRICS_PORT:-9089}" "$BIN/API" serve &
children+=($!)
# One process per worker role, each with its own /health and /metrics port (population 9090, queue 9091,
# remote-fetch 9092, status 9093, scheduler 9094, webhooks 9095). Started so that a stop (newest first) stops
# the roles that publish call outcomes (queue, remote-fetch) before the status role that applies them, which
# gets a second to apply their last ones: an outcome left in the local broker is lost with it, and the call
# then waits for the sweeper to look it up at the provider.
declare -A worker_ports=([population]=9090 [queue]=9091 [remote-fetch]=9092 [status]=9093 [scheduler]=9094 [webhooks]=9095)
for role in status webhooks scheduler population remote-fetch queue; do
    WORKER_HTTP_PORT=${worker_ports[$role]} "$BIN/Workers" run --role "$role" &
    children+=($!)
    [ "$role" = status ] && status_pid=$!
done
echo "SCFM is starting on http://${HOST:-127.0.0.1}:${PORT:-3000} (super-admin token in $STATE/super-admin-token). Ctrl-C stops it." >&2
echo "Operator console: http://${HOST:-127.0.0.1}:${PORT:-3000}/console — admin@scfm.local, password in $STATE/console-admin-password" >&2

# Exit (and stop the rest) as soon as any process ends on its own.
wait -n "${children[@]}"
