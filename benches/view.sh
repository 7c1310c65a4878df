#!/usr/bin/env bash
# Benchmark of ivre-db2view: a full build (hosts/s) with one job and with J
# jobs, side by side with a raw INSERT ... SELECT of the very rows it wrote
# into the same tables (with their indexes, as any writer into the live
# tables), then an incremental run after importing K new hosts, and the
# peak RSS of each run (flat: the records of one address at a time per job).
#
# Usage: benches/view.sh [N [K [J]]]   (default: 100000 10000 2: N scan
#        hosts, plus a passive log of N/2 lines over N/4 addresses)
# Needs: a PostgreSQL server (IVRE_BENCH_DB admin URL, default
# postgresql://root@127.0.0.1/postgres), psql, python3, GNU time, bc.
set -euo pipefail
cd "$(dirname "$0")/.."
admin=${IVRE_BENCH_DB:-postgresql://root@127.0.0.1/postgres}
n=${1:-100000}
k=${2:-10000}
jobs=${3:-2}
cargo build --release -q --bin ivre-scan2db --bin ivre-passiverecon2db --bin ivre-db2view
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
db=ivre_bench_view
url="${admin%/*}/$db"
views="view_host view_port view_script view_hostname view_hop view_osmatch view_osclass view_cpe view_tag"
psql -q "$admin" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
python3 benches/gen_nmap_xml.py "$((n + k))" "$work/all.xml"
# The first N hosts now, the K others after the full build.
python3 - "$work/all.xml" "$n" "$work/first.xml" "$work/new.xml" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
head, body = text.split("\n", 2)[:2], text.split("\n", 2)[2]
hosts = re.findall(r"<host[ >].*?</host>", body, flags=re.S)
n = int(sys.argv[2])
start = '\n'.join(head) + '\n'
end = '<runstats><finished time="1600003600" elapsed="3600" exit="success"/></runstats>\n</nmaprun>\n'
for out, part in ((sys.argv[3], hosts[:n]), (sys.argv[4], hosts[n:])):
    with open(out, "w") as f:
        f.write(start + "\n".join(part) + "\n" + end)
PY
python3 benches/gen_passive_recon.py tests/data/passive/zeek/passive_recon.log "$((n / 2))" \
    "$work/passive.log" "$work/passive.tsv" --hosts "$((n / 4))" >/dev/null
IVRE_DB=$url ./target/release/ivre-scan2db -q "$work/first.xml"
IVRE_DB=$url ./target/release/ivre-passiverecon2db -q "$work/passive.log"
records=$(psql -qtA "$url" -c "SELECT (SELECT count(*) FROM scan_host) + (SELECT count(*) FROM passive WHERE addr IS NOT NULL)")
/usr/bin/time -f "%e %M" -o "$work/time" env IVRE_DB="$url" ./target/release/ivre-db2view -q --full
read -r full rss < "$work/time"
/usr/bin/time -f "%e %M" -o "$work/time" env IVRE_DB="$url" ./target/release/ivre-db2view -q --full --jobs "$jobs"
read -r fullj rssj < "$work/time"
hosts=$(psql -qtA "$url" -c "SELECT count(*) FROM view_host")
# The ceiling: the same rows, re-inserted by the server itself into the
# same (emptied) tables, in one transaction.
for t in $views; do psql -q "$url" -c "CREATE TABLE copy_$t AS SELECT * FROM $t"; done
psql -q "$url" -c "TRUNCATE ${views// /, }"
start=$(date +%s.%N)
{ echo "BEGIN;"; for t in $views; do echo "INSERT INTO $t SELECT * FROM copy_$t;"; done; echo "COMMIT;"; } \
    | psql -q "$url"
raw=$(echo "$(date +%s.%N) - $start" | bc)
IVRE_DB=$url ./target/release/ivre-scan2db -q "$work/new.xml"
/usr/bin/time -f "%e %M" -o "$work/time" env IVRE_DB="$url" ./target/release/ivre-db2view -q
read -r incr irss < "$work/time"
printf 'full build: %d hosts from %d records in %.2f s: %.0f hosts/s, peak RSS %d MB\n' \
    "$hosts" "$records" "$full" "$(echo "$hosts / $full" | bc -l)" "$((rss / 1024))"
printf 'full build with %d jobs: %.2f s: %.0f hosts/s, peak RSS %d MB\n' \
    "$jobs" "$fullj" "$(echo "$hosts / $fullj" | bc -l)" "$((rssj / 1024))"
printf 'raw INSERT ... SELECT of the same rows: %.2f s: %.0f hosts/s (db2view at %.0f %% of it)\n' \
    "$raw" "$(echo "$hosts / $raw" | bc -l)" "$(echo "100 * $raw / $full" | bc -l)"
printf 'incremental build after importing %d hosts: %.2f s, peak RSS %d MB\n' "$k" "$incr" "$((irss / 1024))"
[ -n "${KEEP:-}" ] || psql -q "$admin" -c "DROP DATABASE $db"
