#!/usr/bin/env bash
# Creates database NAME on the local cluster at PORT if it does not exist.
set -euo pipefail
port="$1"
name="$2"
exists=$(psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'")
if [ "$exists" != "1" ]; then
    psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -qc "CREATE DATABASE \"$name\"" >/dev/null
fi
