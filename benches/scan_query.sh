#!/usr/bin/env bash
# Benchmark of the scan queries (not a test): loads N host records (default
# 1,000,000, made from IVRE's golden records with fresh addresses) into a
# throwaway private cluster, then times ivre-scancli against the same SQL run
# directly with psql, in the same run.
#
#   benches/scan_query.sh            # N=1000000
#   N=100000 KEEP=1 benches/scan_query.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
RUNS=${RUNS:-3}

cargo build --release -q --bin ivre-scancli
cargo build --release -q -p ivre-pg --example scan_bench_load
SCANCLI=$PWD/target/release/ivre-scancli
LOADER=$PWD/target/release/examples/scan_bench_load

BENCH=$(mktemp -d /tmp/ivre-bench-XXXXXX)
chmod 755 "$BENCH"
export XDG_DATA_HOME=$BENCH
unset IVRE_DB PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGPASSWORD
PGDIR=$BENCH/ivre/pg
cleanup() {
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
PSQL=(psql -X -q -v ON_ERROR_STOP=1 "$CONN")
"${PSQL[@]}" -c "ALTER SYSTEM SET work_mem = '64MB'" \
    -c "ALTER SYSTEM SET max_wal_size = '8GB'" \
    -c "ALTER SYSTEM SET synchronous_commit = off" -c "SELECT pg_reload_conf()" >/dev/null

echo "== loading $N hosts"
# Bulk load: the GIN indexes are built after the load (as pg_restore does),
# with the definitions of sql/0001_scan.sql.
GIN_INDEXES="CREATE INDEX scan_host_categories ON scan_host USING gin (categories);
CREATE INDEX scan_script_data ON scan_script USING gin (data jsonb_path_ops);
CREATE INDEX scan_script_output_trgm ON scan_script USING gin (output gin_trgm_ops);
CREATE INDEX scan_hostname_domains ON scan_hostname USING gin (domains);
CREATE INDEX scan_hop_domains ON scan_hop USING gin (domains);"
"${PSQL[@]}" -c "DROP INDEX scan_host_categories, scan_script_data, scan_script_output_trgm, scan_hostname_domains, scan_hop_domains"
t0=$(date +%s.%N)
"$LOADER" tests/data/golden/ivre-nmap-records.jsonl.gz "$N"
t1=$(date +%s.%N)
printf 'load (COPY, without the GIN indexes): %.1f s\n' "$(echo "$t1 - $t0" | bc)"
"${PSQL[@]}" -c "SET maintenance_work_mem = '1GB'" -c "$GIN_INDEXES"
"${PSQL[@]}" -c "VACUUM ANALYZE" >/dev/null
t2=$(date +%s.%N)
printf 'GIN indexes + vacuum analyze: %.1f s\n' "$(echo "$t2 - $t1" | bc)"
"${PSQL[@]}" -Atc "SELECT 'hosts: ' || count(*) FROM scan_host"
"${PSQL[@]}" -Atc "SELECT 'database size: ' || pg_size_pretty(pg_database_size(current_database()))"

# best of RUNS wall-clock seconds of a command (after one warm-up run)
best() {
    local best=999999 t0 t1 d
    "$@" >/dev/null
    for _ in $(seq "$RUNS"); do
        t0=$(date +%s.%N)
        "$@" >/dev/null
        t1=$(date +%s.%N)
        d=$(echo "$t1 - $t0" | bc)
        if (( $(echo "$d < $best" | bc) )); then best=$d; fi
    done
    printf '%.3f' "$best"
}

row() { # name, ivre-scancli args, SQL
    local name=$1 args=$2 sql=$3
    local ours theirs
    # shellcheck disable=SC2086
    ours=$(best "$SCANCLI" $args)
    theirs=$(best "${PSQL[@]}" -Atc "$sql")
    # shellcheck disable=SC2086
    result=$("$SCANCLI" $args | head -n 1)
    printf '%-28s %10s s %10s s   (%s)\n' "$name" "$ours" "$theirs" "$result"
}

echo
printf '%-28s %12s %12s\n' "query" "ivre-scancli" "psql"
row "count --port 80" "--count --port 80" \
    "SELECT count(*) FROM scan_host h WHERE EXISTS (SELECT 1 FROM scan_port p WHERE p.host_id = h.id AND p.protocol = 'tcp' AND p.port = 80 AND p.state = 'open')"
row "count --service http" "--count --service http" \
    "SELECT count(*) FROM scan_host h WHERE EXISTS (SELECT 1 FROM scan_port p WHERE p.host_id = h.id AND p.service_name = 'http')"
row "count --script regex" "--count --script http-title:/Microsoft/i" \
    "SELECT count(*) FROM scan_host h WHERE EXISTS (SELECT 1 FROM scan_script s WHERE s.host_id = h.id AND s.name = 'http-title' AND s.output ~* 'Microsoft')"
row "count --net 11.1.0.0/16" "--count --net 11.1.0.0/16" \
    "SELECT count(*) FROM scan_host h WHERE h.addr <<= '11.1.0.0/16'"
# psql: the plain GROUP BY on the port table (what a person would type).
row "top service" "--top service" \
    "SELECT p.service_name, count(*) FROM scan_port p WHERE p.port <> -1 AND p.state = 'open' GROUP BY 1 ORDER BY 2 DESC LIMIT 10"
row "top port" "--top port" \
    "SELECT p.protocol, p.port, count(*) FROM scan_port p WHERE p.port <> -1 GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 10"

echo
echo "== JSON export of all $N hosts"
t0=$(date +%s.%N)
/usr/bin/time -f '%M' -o "$BENCH/rss" "$SCANCLI" --json >/dev/null
t1=$(date +%s.%N)
ours=$(echo "$t1 - $t0" | bc)
t0=$(date +%s.%N)
"${PSQL[@]}" -c "COPY (SELECT doc::text FROM scan_host ORDER BY id) TO STDOUT" >/dev/null
t1=$(date +%s.%N)
theirs=$(echo "$t1 - $t0" | bc)
printf 'ivre-scancli --json: %.1f s (%.0f hosts/s), peak RSS %s kB\n' "$ours" "$(echo "$N / $ours" | bc -l)" "$(cat "$BENCH/rss")"
printf 'psql COPY (same rows): %.1f s (%.0f hosts/s)\n' "$theirs" "$(echo "$N / $theirs" | bc -l)"
