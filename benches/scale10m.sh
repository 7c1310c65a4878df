#!/usr/bin/env bash
# Benchmark (not a test): N rich scan hosts (default 10,000,000, made from
# IVRE's golden records with fresh addresses, loaded through the COPY
# loader with every index in place) on one node and on a local Citus
# cluster (a coordinator and two workers on this machine), then the same
# queries on both: ingest rate, database size, count / top / regex / export
# times. The single-node baseline is a database of the coordinator's server
# without the citus extension: same binaries, same settings, same run.
#
#   benches/scale10m.sh [N]          # N=10000000 (needs ~21 KB of disk per host and mode)
#   RUNS=3 BASEPORT=55480 benches/scale10m.sh 100000
#
# Needs Citus installed into the local PostgreSQL (../shared/citus/build.sh)
# and its cluster.sh (../shared/citus/, else /work/shared/citus/).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000000}
RUNS=${RUNS:-2}
BASEPORT=${BASEPORT:-55480}
SHARDS=${SHARDS:-32}

CLUSTER_SH=../shared/citus/cluster.sh
[ -x "$CLUSTER_SH" ] || CLUSTER_SH=/work/shared/citus/cluster.sh
[ -x "$CLUSTER_SH" ] || { echo "scale10m: no citus cluster.sh (../shared/citus/)" >&2; exit 1; }

# Disk: about 21 KB per rich host and mode; refuse more than 10 GB, or what
# would leave less than 15 GB free.
need_kb=$((N * 21 * 2))
free_kb=$(df -Pk /tmp | awk 'NR == 2 {print $4}')
if (( need_kb > ${MAX_KB:-10485760} || free_kb - need_kb < 15 * 1024 * 1024 )); then
    echo "scale10m: $N hosts need about $((need_kb / 1024)) MB for the two databases, $((free_kb / 1024 / 1024)) GB are free (at most MAX_KB=${MAX_KB:-10485760} kB, 15 GB must stay free): choose a smaller N" >&2
    exit 1
fi

# TOOLS_PROFILE=debug times the debug build of ivre-scancli (when a release
# build of the tools is out of reach); the loader is always a release build.
TOOLS_PROFILE=${TOOLS_PROFILE:-release}
if [ "$TOOLS_PROFILE" = release ]; then
    cargo build --release -q --bin ivre-scancli --bin ivre-db
else
    cargo build -q --bin ivre-scancli --bin ivre-db
fi
cargo build --release -q -p ivre-pg --example scan_bench_load
SCANCLI=$PWD/target/$TOOLS_PROFILE/ivre-scancli
IVREDB=$PWD/target/$TOOLS_PROFILE/ivre-db
LOADER=$PWD/target/release/examples/scan_bench_load
RECORDS=tests/data/golden/ivre-nmap-records.jsonl.gz

DIR=$(mktemp -d /tmp/scale10m-XXXXXX)
chmod 755 "$DIR"
cleanup() { "$CLUSTER_SH" stop "$DIR/c" >/dev/null 2>&1 || true; rm -rf "$DIR"; }
trap cleanup EXIT
unset IVRE_DB PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGPASSWORD
"$CLUSTER_SH" start "$DIR/c" "$BASEPORT" >/dev/null
W1=$((BASEPORT + 1)) W2=$((BASEPORT + 2))
conn() { echo "host=$DIR/c port=$1 user=postgres dbname=$2"; }
psql_() { local p=$1 d=$2; shift 2; psql -X -q -v ON_ERROR_STOP=1 "$(conn "$p" "$d")" "$@"; }
for p in $BASEPORT $W1 $W2; do
    psql -X -q "$(conn "$p" postgres)" -c "ALTER SYSTEM SET work_mem = '64MB'" \
        -c "ALTER SYSTEM SET max_wal_size = '8GB'" -c "ALTER SYSTEM SET synchronous_commit = off" \
        -c "SELECT pg_reload_conf()" >/dev/null
done
# The single node's database, and the Citus one (on the three nodes).
psql -X -q "$(conn "$BASEPORT" postgres)" -c "CREATE DATABASE scale_single" -c "CREATE DATABASE scale_citus" 2>/dev/null
for p in $W1 $W2; do psql -X -q "$(conn "$p" postgres)" -c "CREATE DATABASE scale_citus" 2>/dev/null; done
for p in $BASEPORT $W1 $W2; do psql_ "$p" scale_citus -c "CREATE EXTENSION citus"; done
psql_ "$BASEPORT" scale_citus -c "SELECT citus_set_coordinator_host('$DIR/c', $BASEPORT)" \
    -c "SELECT citus_add_node('$DIR/c', $W1)" -c "SELECT citus_add_node('$DIR/c', $W2)" >/dev/null

SINGLE=$(conn "$BASEPORT" scale_single)
CITUS=$(conn "$BASEPORT" scale_citus)
"$SCANCLI" --db "$SINGLE" --count >/dev/null   # creates the schema
"$SCANCLI" --db "$CITUS" --count >/dev/null
"$IVREDB" --db "$CITUS" -q distribute --shard-count "$SHARDS"

best() { # best of RUNS wall-clock seconds (after one warm-up run)
    local best=999999 t0 t1 d
    "$@" >/dev/null
    for _ in $(seq "$RUNS"); do
        t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N)
        d=$(echo "$t1 - $t0" | bc)
        if (( $(echo "$d < $best" | bc) )); then best=$d; fi
    done
    printf '%.3f' "$best"
}

declare -A LOAD SIZE
for mode in single citus; do
    db=$SINGLE; [ $mode = citus ] && db=$CITUS
    echo "== $mode: loading $N hosts (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    t0=$(date +%s.%N)
    "$LOADER" "$RECORDS" "$N" --db "$db" 2>&1 | tail -n 1
    t1=$(date +%s.%N)
    LOAD[$mode]=$(echo "$t1 - $t0" | bc)
    printf '%s load: %.1f s, %.0f hosts/s\n' $mode "${LOAD[$mode]}" "$(echo "$N / ${LOAD[$mode]}" | bc -l)"
    psql -X -q "$db" -c "VACUUM ANALYZE" 2>/dev/null
done
SIZE[single]=$(psql -X -Atq "$SINGLE" -c "SELECT pg_database_size(current_database())")
# Citus: the shards on the workers plus the coordinator's database.
SIZE[citus]=$(psql -X -Atq "$CITUS" -c "SELECT pg_database_size(current_database()) + \
    (SELECT sum(citus_total_relation_size(logicalrelid)) FROM pg_dist_partition)")

echo
printf '%-26s %14s %14s %8s\n' "" "single node" "Citus (2 w.)" "ratio"
printf '%-26s %14.0f %14.0f %8.2f\n' "ingest (hosts/s)" "$(echo "$N / ${LOAD[single]}" | bc -l)" \
    "$(echo "$N / ${LOAD[citus]}" | bc -l)" "$(echo "${LOAD[single]} / ${LOAD[citus]}" | bc -l)"
printf '%-26s %14.0f %14.0f %8.2f\n' "database (bytes per host)" "$(echo "${SIZE[single]} / $N" | bc -l)" \
    "$(echo "${SIZE[citus]} / $N" | bc -l)" "$(echo "${SIZE[citus]} / ${SIZE[single]}" | bc -l)"
row() { # name, ivre-scancli args...
    local name=$1; shift
    local a b
    a=$(best "$SCANCLI" --db "$SINGLE" "$@")
    b=$(best "$SCANCLI" --db "$CITUS" "$@")
    local ra rb
    ra=$("$SCANCLI" --db "$SINGLE" "$@" | head -n 1)
    rb=$("$SCANCLI" --db "$CITUS" "$@" | head -n 1)
    [ "$ra" = "$rb" ] || echo "scale10m: $name differs: $ra vs $rb" >&2
    printf '%-26s %12s s %12s s %8.2f   (%s)\n' "$name" "$a" "$b" "$(echo "$b / $a" | bc -l)" "$ra"
}
row "count" --count
row "count --port 80" --count --port 80
row "count --service http" --count --service http
row "count --script regex" --count --script 'http-title:/Microsoft/i'
row "count --net /16" --count --net 11.0.0.0/16
row "top service" --top service
row "top port" --top port
for mode in single citus; do
    db=$SINGLE; [ $mode = citus ] && db=$CITUS
    t0=$(date +%s.%N)
    "$SCANCLI" --db "$db" --json | wc -c > "$DIR/bytes"
    t1=$(date +%s.%N)
    printf '%-26s %.1f s, %.0f hosts/s, %s bytes\n' "--json export ($mode)" "$(echo "$t1 - $t0" | bc)" \
        "$(echo "$N / ($t1 - $t0)" | bc -l)" "$(cat "$DIR/bytes")"
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
