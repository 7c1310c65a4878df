#!/usr/bin/env bash
# Benchmark of ivre-httpd (not a test): loads N host records (default
# 1,000,000, made from IVRE's golden records with fresh addresses) into a
# throwaway private cluster, starts ivre-httpd on 127.0.0.1, and measures
# requests/s and latency percentiles (p50, p99) at C concurrent clients
# (default 64) for a count, a top and a 1,000-record listing, with ab
# (apt-get install apache2-utils) or oha when installed; then the same
# queries with ivre-scancli, the baseline of the query layer alone, in the
# same run. Every request goes to this machine's loopback only, bounded in
# number (REQS per query, LIST_REQS for the listing) and time.
#
#   benches/web.sh                          # N=1000000
#   N=100000 REQS=2000 benches/web.sh
#   BENCH_DIR=/tmp/webbench STAGE=load benches/web.sh   # load, keep the cluster
#   BENCH_DIR=/tmp/webbench STAGE=run benches/web.sh    # measure on it again
#   SKIP_BUILD=1 ...                        # use the target/release binaries as they are
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
C=${C:-64}
REQS=${REQS:-5000}
LIST_REQS=${LIST_REQS:-640}
STAGE=${STAGE:-all}
OHA=${OHA:-$(command -v oha || true)}
AB=${AB:-$(command -v ab || true)}
[ -n "$OHA$AB" ] || { echo "no load generator: apt-get install apache2-utils (ab), or cargo install oha" >&2; exit 1; }

if [ "${SKIP_BUILD:-0}" != 1 ]; then
    cargo build --release -q --bin ivre-httpd --bin ivre-scancli
    cargo build --release -q -p ivre-pg --example scan_bench_load
fi
HTTPD=$PWD/target/release/ivre-httpd
SCANCLI=$PWD/target/release/ivre-scancli
LOADER=$PWD/target/release/examples/scan_bench_load

if [ -n "${BENCH_DIR:-}" ]; then
    BENCH=$BENCH_DIR
    mkdir -p "$BENCH"
    KEEP=1
else
    BENCH=$(mktemp -d /tmp/ivre-web-bench-XXXXXX)
fi
chmod 755 "$BENCH"
export XDG_DATA_HOME=$BENCH
unset IVRE_DB PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGPASSWORD
PGDIR=$BENCH/ivre/pg
SERVER=
cleanup() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true
    if [ -f "$PGDIR/data/postmaster.pid" ]; then
        local pm
        pm=$(head -n1 "$PGDIR/data/postmaster.pid")
        kill -INT "$pm" 2>/dev/null || true
        while kill -0 "$pm" 2>/dev/null; do sleep 1; done
    fi
    [ "${KEEP:-0}" = 1 ] || rm -rf "$BENCH"
}
trap cleanup EXIT

"$SCANCLI" --count >/dev/null 2>&1   # creates (or starts) the private cluster and the schema
CONN="host=$PGDIR user=ivre dbname=ivre"
if [ "$STAGE" != run ]; then
    echo "== loading $N hosts"
    time "$LOADER" tests/data/golden/ivre-nmap-records.jsonl.gz "$N"
    psql -X -q "$CONN" -c "VACUUM ANALYZE" >/dev/null
fi
[ "$STAGE" = load ] && exit 0
HOSTS=$("$SCANCLI" --count)
echo "== $HOSTS hosts in the database"

"$HTTPD" --port 0 --pool-size 16 -q > "$BENCH/httpd.out" &
SERVER=$!
for _ in $(seq 100); do [ -s "$BENCH/httpd.out" ] && break; sleep 0.1; done
BASE=$(sed -n 's/^ivre-httpd: listening on //p' "$BENCH/httpd.out")
echo "== $BASE, $C clients"

run() { # name, path, requests
    local name=$1 path=$2 n=$3
    echo "-- $name: GET $path ($n requests)"
    curl -sf -o /dev/null "$BASE$path"   # warm-up, and fail early
    if [ -n "$OHA" ]; then
        "$OHA" --no-tui -n "$n" -c "$C" "$BASE$path" \
            | grep -E 'Requests/sec|Slowest|Fastest|50(\.00)?% in|99(\.00)?% in|\[[0-9]{3}\]' || true
    else
        "$AB" -q -n "$n" -c "$C" "$BASE$path" \
            | grep -E 'Complete requests|Failed requests|Non-2xx|Requests per second|Total transferred|^ +(50|99|100)%' || true
    fi
}
run "count" "/scans/count?q=service:http" "$REQS"
run "top" "/scans/top/service" "$REQS"
run "1000-record listing" "/scans?q=limit:1000&format=ndjson" "$LIST_REQS"

echo "== baseline: the query layer alone (ivre-scancli, one process per query, sequential)"
time "$SCANCLI" --count --service http
time "$SCANCLI" --top service >/dev/null
time "$SCANCLI" --json --limit 1000 >/dev/null
