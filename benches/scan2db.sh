#!/usr/bin/env bash
# Benchmark of ivre-scan2db: hosts/s, MB/s and peak RSS on generated Nmap XML,
# side by side with a raw COPY of the same rows into the same tables (the
# ceiling), in the same run and on the same server.
#
# Usage: benches/scan2db.sh [N...]   (default: 10000 100000)
# Needs: a PostgreSQL server (IVRE_BENCH_DB admin URL, default
# postgresql://root@127.0.0.1/postgres), psql, python3, GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
admin=${IVRE_BENCH_DB:-postgresql://root@127.0.0.1/postgres}
sizes=("${@:-10000 100000}")
[ $# -eq 0 ] && sizes=(10000 100000)
cargo build --release -q --bin ivre-scan2db
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
tables="scan_file scan_host scan_port scan_script scan_hostname scan_hop scan_osmatch scan_osclass scan_cpe scan_tag"
db_url() { echo "${admin%/*}/$1"; }
printf '%-8s %10s %10s %10s %10s %12s %8s\n' hosts "MB" "scan2db_s" "hosts/s" "MB/s" "copy_s" "ratio" 
for n in "${sizes[@]}"; do
    xml=$work/scan-$n.xml
    python3 benches/gen_nmap_xml.py "$n" "$xml"
    mb=$(du -m "$xml" | cut -f1)
    db=ivre_bench_$n
    psql -q "$admin" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    # Create the schema first, so that the timing covers the import only.
    IVRE_DB=$(db_url $db) ./target/release/ivre-scan2db -q /dev/null
    /usr/bin/time -f "%e %M" -o "$work/time" env IVRE_DB="$(db_url $db)" \
        ./target/release/ivre-scan2db -q "$xml"
    read -r secs rss < "$work/time"
    # The ceiling: the same rows, dumped and copied back into the same (emptied) tables.
    for t in $tables; do psql -q "$(db_url $db)" -c "\\copy $t TO '$work/$t.tsv'"; done
    psql -q "$(db_url $db)" -c "TRUNCATE ${tables// /, } CASCADE"
    start=$(date +%s.%N)
    { echo "BEGIN;"; for t in $tables; do echo "\\copy $t FROM '$work/$t.tsv'"; done; echo "COMMIT;"; } \
        | psql -q "$(db_url $db)"
    copy=$(echo "$(date +%s.%N) - $start" | bc)
    printf '%-8s %10s %10.2f %10.0f %10.1f %12.2f %7.0f%%   peak RSS %d MB\n' "$n" "$mb" "$secs" \
        "$(echo "$n / $secs" | bc -l)" "$(echo "$mb / $secs" | bc -l)" "$copy" \
        "$(echo "100 * $copy / $secs" | bc -l)" "$((rss / 1024))"
    psql -q "$admin" -c "DROP DATABASE $db"
done
