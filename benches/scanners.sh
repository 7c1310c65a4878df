#!/usr/bin/env bash
# Benchmark of the Zgrab2 reader of ivre-scan2db: records/s and peak RSS on a
# generated Zgrab2 NDJSON file (the real samples of tests/data/zgrab2/ with
# fresh addresses), parse only (-t) and imported, side by side with a raw COPY
# of the very rows the import stored into the same (emptied) tables, in the
# same run and on the same server.
#
# Usage: benches/scanners.sh [N...]   (default: 100000)
# Needs: a PostgreSQL server (IVRE_BENCH_DB admin URL, default
# postgresql://root@127.0.0.1/postgres), psql, python3, GNU time, bc.
set -euo pipefail
cd "$(dirname "$0")/.."
admin=${IVRE_BENCH_DB:-postgresql://root@127.0.0.1/postgres}
sizes=("$@")
[ $# -eq 0 ] && sizes=(100000)
cargo build --release -q --bin ivre-scan2db
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
tables="scan_file scan_host scan_port scan_script scan_hostname scan_hop scan_osmatch scan_osclass scan_cpe scan_tag"
db_url() { echo "${admin%/*}/$1"; }
printf '%-8s %6s %9s %10s %10s %10s %8s %8s %8s\n' records MB parse_s parse_r/s import_s import_r/s copy_s "copy/imp" "RSS_MB"
for n in "${sizes[@]}"; do
    in=$work/zgrab2-$n.json
    python3 benches/gen_zgrab2.py "$n" "$in"
    mb=$(du -m "$in" | cut -f1)
    cat "$in" >/dev/null # page cache
    /usr/bin/time -f "%e %M" -o "$work/time" ./target/release/ivre-scan2db -q -t "$in" >/dev/null
    read -r parse prss < "$work/time"
    db=ivre_bench_zgrab2_$n
    psql -q "$admin" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    # Create the schema first, so that the timing covers the import only.
    IVRE_DB=$(db_url $db) ./target/release/ivre-scan2db -q /dev/null
    /usr/bin/time -f "%e %M" -o "$work/time" env IVRE_DB="$(db_url $db)" \
        ./target/release/ivre-scan2db -q "$in"
    read -r secs rss < "$work/time"
    stored=$(psql -qtA "$(db_url $db)" -c "SELECT count(*) FROM scan_host")
    # The ceiling: the same rows, dumped and copied back into the same (emptied) tables.
    for t in $tables; do psql -q "$(db_url $db)" -c "\\copy $t TO '$work/$t.tsv'"; done
    psql -q "$(db_url $db)" -c "TRUNCATE ${tables// /, } CASCADE"
    start=$(date +%s.%N)
    { echo "BEGIN;"; for t in $tables; do echo "\\copy $t FROM '$work/$t.tsv'"; done; echo "COMMIT;"; } \
        | psql -q "$(db_url $db)"
    copy=$(echo "$(date +%s.%N) - $start" | bc)
    printf '%-8s %6s %9.2f %10.0f %10.2f %10.0f %8.2f %7.0f%% %4d/%d\n' "$n" "$mb" "$parse" \
        "$(echo "$n / $parse" | bc -l)" "$secs" "$(echo "$stored / $secs" | bc -l)" "$copy" \
        "$(echo "100 * $copy / $secs" | bc -l)" "$((prss / 1024))" "$((rss / 1024))"
    psql -q "$admin" -c "DROP DATABASE $db"
done
