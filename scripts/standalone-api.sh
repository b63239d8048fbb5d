# Sourced by bench.sh and loadtest.sh: a PostgreSQL cluster of their own with the migrations applied, and the
# release API on it without a broker (their figures need none: the health probe points nowhere and the outbox
# relay stays off). Both are stopped when the sourcing script exits.
#   standalone_database DATA PG_PORT DATABASE SHARED_BUFFERS   starts the cluster, exports DATABASE_URL, migrates
#   standalone_api API_PORT                                     starts `API serve`, waits for it, sets api_pid

api_pid=""
standalone_data=""
stop_standalone() {
    [ -z "$api_pid" ] || { kill -TERM "$api_pid" 2>/dev/null; wait "$api_pid" 2>/dev/null || true; }
    [ -z "$standalone_data" ] || scripts/postgres.sh stop "$standalone_data"
}
trap stop_standalone EXIT

standalone_database() {
    standalone_data="$1"
    PG_SHARED_BUFFERS="$4" scripts/postgres.sh start "$1" "$2"
    scripts/create-database.sh "$2" "$3"
    export DATABASE_URL="postgres://postgres@127.0.0.1:$2/$3"
    .build/release/API migrate >/dev/null
}

standalone_api() {
    SECRETS_KEY="${SECRETS_KEY:-$(head -c 32 /dev/urandom | base64)}" \
        KAFKA_BROKERS=127.0.0.1:1 KAFKA_PROPERTIES="log_level=0" OUTBOX_RELAY=false PORT="$1" METRICS_PORT="$(($1 + 1))" \
        API_RATE_LIMIT_PER_SECOND=0 .build/release/API serve &
    # No request rate limit: the benchmarks measure how many requests the API answers, not the limit.
    api_pid=$!
    for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$1/health" && break; sleep 0.1; done
    kill -0 "$api_pid" 2>/dev/null || { echo "the API did not start (is port $1 in use?)" >&2; exit 1; }
}
