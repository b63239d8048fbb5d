#!/usr/bin/env bash
# Installs the system packages the build, tests and `make run` need, when missing (Debian/Ubuntu).
set -euo pipefail

missing=()
pkg-config --exists rdkafka 2>/dev/null || missing+=(librdkafka-dev)
command -v kcat >/dev/null 2>&1 || missing+=(kcat)
dpkg -s libpq-dev >/dev/null 2>&1 || missing+=(libpq-dev)
dpkg -s libcurl4-openssl-dev >/dev/null 2>&1 || missing+=(libcurl4-openssl-dev)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
# make loadtest drives the API with wrk.
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
# The console's browser tests drive Debian's Chromium through chromium-driver (scripts/browser-tests.py).
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
# The console's Khmer pages, drawn in Chromium (make screenshots) rather than as empty boxes.
[ -d /usr/share/fonts/truetype/khmeros ] || missing+=(fonts-khmeros)
# The tests keep the official twilio library in a virtualenv (scripts/test.sh).
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
if ! command -v postgres >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    missing+=(postgresql)
fi

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "Installing system packages: ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
