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

source scripts/standalone-api.sh
export LOG_LEVEL=warning
# Enough cache for the million-row tables, as a production server would have.
standalone_database "$DATA" "$PG_PORT" scfm_bench "${PG_SHARED_BUFFERS:-4GB}"
standalone_api "$API_PORT"

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -m); $(date -u +%Y-%m-%d)"
# BENCH picks some of them: `make bench BENCH="campaign"`.
for bench in ${BENCH:-contacts-index console-pages outbox-throughput campaign dispatch autopilot callbacks contacts-import}; do
    case "$bench" in
    contacts-index | console-pages | campaign | callbacks) .build/release/Benchmarks "$bench" --api-url "http://127.0.0.1:$API_PORT" ;;
    *) .build/release/Benchmarks "$bench" ;;
    esac
    echo
done
