#!/usr/bin/env bash
# `make screenshots`: every main page of the operator console at desktop (1280 px) and phone (390 px) width,
# into docs/console/ (or the folder given), taken by the browser tests in Chromium against the whole engine on a
# throwaway PostgreSQL cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-docs/console}"
PG_PORT="${SCFM_SCREENSHOT_POSTGRES_PORT:-5438}"
DATA=.scfm/screenshot-postgres
scripts/postgres.sh stop "$DATA"
rm -rf "$DATA"
trap 'scripts/postgres.sh stop "$DATA"' EXIT
PG_FSYNC=off scripts/postgres.sh start "$DATA" "$PG_PORT"
PYTHON="$(scripts/python-venv.sh)"
swift build --product API
swift build --product Workers
export LOG_LEVEL="${LOG_LEVEL:-warning}"
"$PYTHON" scripts/browser-tests.py --api "$(swift build --show-bin-path)/API" --postgres-port "$PG_PORT" --screenshots "$OUT"
echo "screenshots in $OUT" >&2
