#!/usr/bin/env bash
# Makes .scfm/venv hold scripts/python-requirements.txt (PyPI), once per change of that file. Prints the
# venv's python.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.scfm/venv
REQUIREMENTS=scripts/python-requirements.txt
STAMP="$VENV/.requirements.sha256"
wanted="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$wanted" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQUIREMENTS" >&2
    echo "$wanted" > "$STAMP"
fi
echo "$PWD/$VENV/bin/python"
