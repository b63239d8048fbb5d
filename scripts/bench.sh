#!/usr/bin/env bash
# `make bench`: release builds, a PostgreSQL under .scfm/bench-postgres (its seeded data is reused between
# runs), the API on port 3999, then the benchmark programs. Prints the figures recorded in docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_PORT="${SCFM_BENCH_POSTGRES_PORT:-5435}"
API_PORT="${SCFM_BENCH_API_PORT:-3999}"
DATA=.scfm/bench-postgres

swift build -c release --product API
swift build -c release --product Benchmarks
swift build -c release --product Workers

api_pid=""
cleanup() {
    [ -z "$api_pid" ] || { kill -TERM "$api_pid" 2>/dev/null; wait "$api_pid" 2>/dev/null || true; }
    scripts/postgres.sh stop "$DATA"
}
trap cleanup EXIT
# Enough cache for the million-row tables, as a production server would have.
PG_SHARED_BUFFERS="${PG_SHARED_BUFFERS:-4GB}" scripts/postgres.sh start "$DATA" "$PG_PORT"
scripts/create-database.sh "$PG_PORT" scfm_bench
export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/scfm_bench"
export LOG_LEVEL=warning

.build/release/API migrate >/dev/null
# The API figures need no broker: point the health probe nowhere and keep the relay out of it.
KAFKA_BROKERS=127.0.0.1:1 KAFKA_PROPERTIES="log_level=0" OUTBOX_RELAY=false PORT="$API_PORT" .build/release/API serve &
api_pid=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$API_PORT/metrics" && break; sleep 0.1; done

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -m); $(date -u +%Y-%m-%d)"
# BENCH picks some of them: `make bench BENCH="campaign"`.
for bench in ${BENCH:-contacts-index outbox-throughput campaign dispatch callbacks contacts-import}; do
    case "$bench" in
    contacts-index | campaign | callbacks) .build/release/Benchmarks "$bench" --api-url "http://127.0.0.1:$API_PORT" ;;
    *) .build/release/Benchmarks "$bench" ;;
    esac
    echo
done
