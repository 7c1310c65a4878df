#!/usr/bin/env bash
# Benchmark of the scan tables at scale (issue 15), this tree against a
# baseline build (the schema before sql/0010_scan_scale.sql), in the same run
# on the same server:
#   - ingest of M rich hosts (IVRE's golden records, ~10 KB of JSON each,
#     fresh addresses) into an empty database, then of M more hosts into a
#     database that holds N hosts;
#   - on-disk size (tables + indexes) per host, against the JSON input size;
#   - counts, top values and a regex on script output at N hosts
#     (ivre-scancli, best of RUNS).
#
#   benches/scan_scale.sh BASE_BIN_DIR        (N=200000 M=10000 RUNS=3)
#
# BASE_BIN_DIR holds ivre-scancli and scan_bench_load built from the baseline
# revision, e.g.:
#   git archive 01b35d2 | tar -x -C /tmp/base && (cd /tmp/base && \
#     CARGO_TARGET_DIR=$PWD/target cargo build --release --bin ivre-scancli \
#     -p ivre -p ivre-pg --example scan_bench_load) && mkdir /tmp/base/bin && cp ... /tmp/base/bin
# The bulk part of the N hosts is loaded with the GIN indexes dropped and
# rebuilt after (as pg_restore does), for both schemas alike; the M-host
# ingests run with every index in place.
# Needs: a PostgreSQL server (IVRE_BENCH_DB admin URL, default
# postgresql://root@127.0.0.1/postgres), psql, bc. Databases: scale_bench_*.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${1:?usage: benches/scan_scale.sh BASE_BIN_DIR}
N=${N:-200000}
M=${M:-10000}
RUNS=${RUNS:-3}
admin=${IVRE_BENCH_DB:-postgresql://root@127.0.0.1/postgres}
records=tests/data/golden/ivre-nmap-records.jsonl.gz
cargo build --release -q --bin ivre-scancli
cargo build --release -q -p ivre-pg --example scan_bench_load
NEW=$PWD/target/release
db_url() { echo "${admin%/*}/$1"; }
json_per_host=$(zcat "$records" | awk '{ b += length($0) + 1 } END { printf "%.0f", b / NR }')
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); JSON input: $json_per_host bytes/host"

# scancli and loader of a schema: old = BASE, new = this tree
scancli() { if [ "$1" = old ]; then echo "$BASE/ivre-scancli"; else echo "$NEW/ivre-scancli"; fi; }
loader() { if [ "$1" = old ]; then echo "$BASE/scan_bench_load"; else echo "$NEW/examples/scan_bench_load"; fi; }
# the GIN indexes of each schema (dropped for the bulk load)
gin_old="scan_host_categories:CREATE INDEX scan_host_categories ON scan_host USING gin (categories)
scan_script_data:CREATE INDEX scan_script_data ON scan_script USING gin (data jsonb_path_ops)
scan_script_output_trgm:CREATE INDEX scan_script_output_trgm ON scan_script USING gin (output gin_trgm_ops)
scan_hostname_domains:CREATE INDEX scan_hostname_domains ON scan_hostname USING gin (domains)
scan_hop_domains:CREATE INDEX scan_hop_domains ON scan_hop USING gin (domains)"
gin_new="scan_host_categories:CREATE INDEX scan_host_categories ON scan_host USING gin (categories)
scan_host_open_ports:CREATE INDEX scan_host_open_ports ON scan_host USING gin (open_ports)
scan_host_services:CREATE INDEX scan_host_services ON scan_host USING gin (services)
scan_host_products:CREATE INDEX scan_host_products ON scan_host USING gin (products)
scan_hostname_domains:CREATE INDEX scan_hostname_domains ON scan_hostname USING gin (domains)
scan_hop_domains:CREATE INDEX scan_hop_domains ON scan_hop USING gin (domains)"

# seconds to load $2 hosts with the loader of schema $1 into database $3
load() {
    local t0 t1
    t0=$(date +%s.%N)
    "$(loader "$1")" "$records" "$2" --db "$(db_url "$3")" 2>/dev/null
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc
}

best() { # best of RUNS wall-clock seconds of a command (after one warm-up run)
    local best=999999 t0 t1 d
    "$@" >/dev/null
    for _ in $(seq "$RUNS"); do
        t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N)
        d=$(echo "$t1 - $t0" | bc)
        if (( $(echo "$d < $best" | bc) )); then best=$d; fi
    done
    printf '%.3f' "$best"
}

# the queries, arguments separated by |
QUERIES=("--count|--port|80" "--count|--service|http" "--count|--product|Microsoft IIS httpd"
    "--count|--script|http-title:/Microsoft/i" "--top|port" "--top|service" "--top|product")
declare -A R
for s in old new; do
    db=scale_bench_$s
    url=$(db_url $db)
    psql -X -q "$admin" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    IVRE_DB=$url "$(scancli $s)" --count >/dev/null
    # M hosts into the empty database
    secs=$(load $s "$M" $db)
    R[$s,empty]=$(echo "$M / $secs" | bc -l)
    # bulk: N - M more, GIN indexes dropped then rebuilt
    gin=gin_$s
    names=$(echo "${!gin}" | cut -d: -f1 | paste -sd, -)
    psql -X -q "$url" -c "DROP INDEX $names"
    secs=$(load $s $((N - M)) $db)
    R[$s,bulk]=$(echo "($N - $M) / $secs" | bc -l)
    t0=$(date +%s.%N)
    echo "${!gin}" | cut -d: -f2- | sed 's/$/;/' | \
        psql -X -q "$url" -c "SET maintenance_work_mem = '512MB'" -f -
    psql -X -q "$url" -c "VACUUM ANALYZE"
    R[$s,gin]=$(echo "$(date +%s.%N) - $t0" | bc)
    R[$s,bytes]=$(psql -X -Atq "$url" -c "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c
        WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace AND c.relname LIKE 'scan\_%'")
    R[$s,hosts]=$(psql -X -Atq "$url" -c "SELECT count(*) FROM scan_host")
    # M more hosts into the database of N hosts, every index in place
    secs=$(load $s "$M" $db)
    R[$s,full]=$(echo "$M / $secs" | bc -l)
    psql -X -q "$url" -c "VACUUM ANALYZE"
    export IVRE_DB=$url
    cli=$(scancli $s)
    for q in "${QUERIES[@]}"; do
        IFS='|' read -r -a args <<< "$q"
        R[$s,$q]=$(best "$cli" "${args[@]}")
        R[$s,$q,out]=$("$cli" "${args[@]}" | head -n 1)
    done
    unset IVRE_DB
done

printf '\n%-44s %14s %14s\n' "" "before (0009)" "after (0010)"
printf '%-44s %14.0f %14.0f\n' "ingest $M hosts into an empty db, hosts/s" "${R[old,empty]}" "${R[new,empty]}"
printf '%-44s %14.0f %14.0f\n' "ingest $M hosts into $N hosts, hosts/s" "${R[old,full]}" "${R[new,full]}"
printf '%-44s %13.0f%% %13.0f%%\n' "  ratio (at $N / empty)" "$(echo "100 * ${R[old,full]} / ${R[old,empty]}" | bc -l)" \
    "$(echo "100 * ${R[new,full]} / ${R[new,empty]}" | bc -l)"
printf '%-44s %14.0f %14.0f\n' "bulk load without GIN, hosts/s" "${R[old,bulk]}" "${R[new,bulk]}"
printf '%-44s %14.1f %14.1f\n' "GIN build + vacuum analyze, s" "${R[old,gin]}" "${R[new,gin]}"
printf '%-44s %14.0f %14.0f\n' "size per host (tables + indexes), bytes" \
    "$(echo "${R[old,bytes]} / ${R[old,hosts]}" | bc -l)" "$(echo "${R[new,bytes]} / ${R[new,hosts]}" | bc -l)"
printf '%-44s %14s %14s\n' "  JSON input per host, bytes" "$json_per_host" "$json_per_host"
for q in "${QUERIES[@]}"; do
    printf '%-44s %12s s %12s s   (%s | %s)\n' "${q//|/ }" "${R[old,$q]}" "${R[new,$q]}" "${R[old,$q,out]}" "${R[new,$q,out]}"
done
[ "${KEEP:-0}" = 1 ] || psql -X -q "$admin" -c "DROP DATABASE scale_bench_old" -c "DROP DATABASE scale_bench_new"
