#!/usr/bin/env bash
# Benchmark of ivre-httpd (not a test): loads N host records (default
# 1,000,000, made from IVRE's golden records with fresh addresses) into a
# throwaway private cluster, starts ivre-httpd on 127.0.0.1, and measures
# requests/s and latency percentiles with oha (cargo install oha) at C
# concurrent clients (default 64) for a count, a top and a 1,000-record
# listing; then the same queries with ivre-scancli, as the baseline of the
# query layer alone. Every request goes to this machine's loopback only,
# bounded in number (REQS per query) and time.
#
#   benches/web.sh                   # N=1000000
#   N=100000 REQS=2000 benches/web.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
C=${C:-64}
REQS=${REQS:-5000}
OHA=${OHA:-$(command -v oha || echo "$HOME/.cargo/bin/oha")}
[ -x "$OHA" ] || { echo "oha not found: cargo install oha" >&2; exit 1; }

cargo build --release -q --bin ivre-httpd --bin ivre-scancli
cargo build --release -q -p ivre-pg --example scan_bench_load
HTTPD=$PWD/target/release/ivre-httpd
SCANCLI=$PWD/target/release/ivre-scancli
LOADER=$PWD/target/release/examples/scan_bench_load

BENCH=$(mktemp -d /tmp/ivre-web-bench-XXXXXX)
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

"$SCANCLI" --count >/dev/null 2>&1   # creates the private cluster and the schema
CONN="host=$PGDIR user=ivre dbname=ivre"
echo "== loading $N hosts"
"$LOADER" tests/data/golden/ivre-nmap-records.jsonl.gz "$N"
psql -X -q "$CONN" -c "VACUUM ANALYZE" >/dev/null

"$HTTPD" --port 0 --pool-size 16 -q > "$BENCH/httpd.out" &
SERVER=$!
for _ in $(seq 100); do [ -s "$BENCH/httpd.out" ] && break; sleep 0.1; done
BASE=$(sed -n 's/^ivre-httpd: listening on //p' "$BENCH/httpd.out")
echo "== $BASE, $C clients, $REQS requests each"

run() { # name, path
    local name=$1 path=$2
    echo "-- $name: GET $path"
    "$OHA" --no-tui -n "$REQS" -c "$C" "$BASE$path" \
        | grep -E 'Requests/sec|Slowest|Fastest|50(\.00)?% in|99(\.00)?% in|\[[0-9]{3}\]' || true
}
run "count" "/scans/count?q=service:http"
run "top" "/scans/top/service"
run "1000-record listing" "/scans?q=limit:1000&format=ndjson"

echo "== baseline: the query layer alone (ivre-scancli, one process per query)"
time "$SCANCLI" --count --service http
time "$SCANCLI" --top service >/dev/null
time "$SCANCLI" --json --limit 1000 >/dev/null
