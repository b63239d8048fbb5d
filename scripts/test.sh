#!/usr/bin/env bash
# `make test`: a throwaway PostgreSQL cluster under .scfm/test-postgres, then `swift test` against it.
# Each test suite creates a fresh database of its own on that cluster.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_PORT="${SCFM_TEST_POSTGRES_PORT:-5434}"
DATA=.scfm/test-postgres
scripts/postgres.sh stop "$DATA"
rm -rf "$DATA"
trap 'scripts/postgres.sh stop "$DATA"' EXIT
# Durability is irrelevant for a cluster deleted after the run.
PG_FSYNC=off scripts/postgres.sh start "$DATA" "$PG_PORT"

# Python tools from PyPI (the twilio library the signature and TwiML tests compare against, the deployment
# checkers), once per change of scripts/python-requirements.txt.
PYTHON="$(scripts/python-venv.sh)"
export TWILIO_PYTHON="$PYTHON"
# No Docker engine or cluster runs here: check the Compose file and the Kubernetes manifests against their
# schemas and against the code.
"$PYTHON" scripts/check-deploy.py

export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
export LOG_LEVEL="${LOG_LEVEL:-warning}"
# One build, with the flags `swift test` uses, of the tests and of the executables (the crash test starts and
# kills a real queue worker process).
swift build --build-tests
export WORKERS_BINARY="$(swift build --show-bin-path)/Workers"
if [ $# -gt 0 ]; then
    swift test "$@"
else
    # The rate tests (dialling rates, a trunk's shares by weight, a slow endpoint beside a healthy one) measure
    # time on a 2-core machine: they run on their own, one suite after another, after the rest, so that the
    # other suites' load does not count against them.
    timed="QueueWorkerTests|FairnessTests|WebhookTests|AutopilotTests"
    swift test --skip-build --skip "$timed"
    # The operator console in a real browser (Chromium through chromium-driver and Selenium).
    "$PYTHON" scripts/browser-tests.py --api "$(dirname "$WORKERS_BINARY")/API" --postgres-port "$PG_PORT"
    for suite in ${timed//|/ }; do swift test --skip-build --filter "$suite"; done
fi
