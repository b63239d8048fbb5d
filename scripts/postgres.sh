#!/usr/bin/env bash
# A PostgreSQL cluster of the project's own, in a folder of the checkout: `postgres.sh start DIR PORT`,
# `postgres.sh stop DIR`, `postgres.sh crash DIR` (immediate shutdown: no checkpoint, the next start replays the
# WAL as after a power cut; make chaos uses it). The cluster trusts local connections: it is for development and tests only.
# PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user.
set -euo pipefail

command="$1"
data_dir="$(realpath -m "$2")"

bin_dir=""
if ! command -v pg_ctl >/dev/null 2>&1; then
    bin_dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)/"
fi

as_server_user=()
if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    as_server_user=(runuser -u postgres --)
fi

case "$command" in
start)
    port="$3"
    if [ ! -f "$data_dir/PG_VERSION" ]; then
        mkdir -p "$data_dir"
        [ ${#as_server_user[@]} -eq 0 ] || chown postgres "$data_dir"
        chmod 700 "$data_dir"
        "${as_server_user[@]}" "${bin_dir}initdb" -D "$data_dir" -U postgres --auth=trust --encoding=UTF8 \
            --locale=C.UTF-8 >/dev/null
    fi
    if "${as_server_user[@]}" "${bin_dir}pg_ctl" -D "$data_dir" status >/dev/null 2>&1; then
        exit 0
    fi
    "${as_server_user[@]}" "${bin_dir}pg_ctl" -D "$data_dir" -l "$data_dir/server.log" -w -t 60 start \
        -o "-p $port -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=${PG_SHARED_BUFFERS:-512MB} -c fsync=${PG_FSYNC:-on}" >/dev/null
    ;;
stop)
    if [ -f "$data_dir/PG_VERSION" ]; then
        "${as_server_user[@]}" "${bin_dir}pg_ctl" -D "$data_dir" -m fast -w stop >/dev/null 2>&1 || true
    fi
    ;;
crash)
    "${as_server_user[@]}" "${bin_dir}pg_ctl" -D "$data_dir" -m immediate -w stop >/dev/null
    ;;
*)
    echo "usage: postgres.sh start DIR PORT | stop DIR | crash DIR" >&2
    exit 2
    ;;
esac
