#!/usr/bin/env bash
# Server-side benchmark of the scan schema before (migrations up to 0009) and
# after sql/0010_scan_scale.sql, in the same run on the same server, with the
# very same rows (no client in the timings):
#   - M rich hosts (IVRE's golden records with fresh addresses, ~10 KB of
#     JSON each) loaded by this tree's loader, then their rows in each layout
#     (before: the whole document in scan_host.doc, no summary arrays);
#   - insert of those rows (INSERT ... SELECT from a staging copy, one
#     transaction, every index in place) into an empty database, then again
#     into a database of N hosts (the bulk in between with the GIN indexes
#     dropped and rebuilt, alike for both schemas);
#   - size per host (tables + indexes) against the JSON input;
#   - counts, top values and a script-output regex at N hosts: the SQL each
#     schema's filter compiler writes, best of RUNS, through psql.
#
#   benches/scan_scale_sql.sh          (N=100000 M=5000 RUNS=3)
# Needs: a PostgreSQL server (IVRE_BENCH_DB admin URL, default
# postgresql://root@127.0.0.1/postgres), psql, bc. Databases: scale_bench_*.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100000}
M=${M:-5000}
RUNS=${RUNS:-3}
PROFILE=${PROFILE:-release}
admin=${IVRE_BENCH_DB:-postgresql://root@127.0.0.1/postgres}
records=tests/data/golden/ivre-nmap-records.jsonl.gz
db_url() { echo "${admin%/*}/$1"; }
[ "$PROFILE" = release ] && p=--release || p=
cargo build $p -q -p ivre-pg --example scan_bench_load
LOADER=target/$PROFILE/examples/scan_bench_load
json_per_host=$(zcat "$records" | awk '{ b += length($0) + 1 } END { printf "%.0f", b / NR }')
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
children="scan_port scan_script scan_hostname scan_hop scan_osmatch scan_osclass scan_cpe scan_tag"
host_cols="id, file_id, addr, source, categories, state, state_reason, state_reason_ttl, start_time, end_time, open_port_count, schema_version"

# The rows, in both layouts.
psql -X -q "$admin" -c "DROP DATABASE IF EXISTS scale_bench_src" -c "CREATE DATABASE scale_bench_src"
"$LOADER" "$records" "$M" --db "$(db_url scale_bench_src)" 2>/dev/null
src=$(db_url scale_bench_src)
psql -X -q "$src" -c "\\copy (SELECT $host_cols, doc, open_ports, services, products FROM scan_host ORDER BY id) TO '$work/host_new.tsv'"
psql -X -q "$src" -c "\\copy (SELECT h.id, h.file_id, h.addr, h.source, h.categories, h.state, h.state_reason, h.state_reason_ttl, h.start_time, h.end_time, h.open_port_count, h.schema_version, r.doc FROM scan_host h JOIN scan_record r USING (id) ORDER BY id) TO '$work/host_old.tsv'"
for t in $children scan_file; do psql -X -q "$src" -c "\\copy $t TO '$work/$t.tsv'"; done
psql -X -q "$admin" -c "DROP DATABASE scale_bench_src"

gin_old="scan_host_categories scan_script_data scan_script_output_trgm scan_hostname_domains scan_hop_domains"
gin_new="scan_host_categories scan_script_data scan_host_open_ports scan_host_services scan_host_products scan_hostname_domains scan_hop_domains"

# seconds of one psql run of SQL on stdin
timed() { local t0; t0=$(date +%s.%N); psql -X -q -v ON_ERROR_STOP=1 "$1" >/dev/null; echo "$(date +%s.%N) - $t0" | bc; }
# the INSERT of the staged hosts, ids and addresses shifted by k
insert_batch() { # schema k
    local cols="$host_cols, doc" k=$2
    [ "$1" = new ] && cols="$cols, open_ports, services, products"
    local shifted=${cols/id, file_id, addr/id + $k * 10000000, file_id, addr + $k * $M}
    echo "BEGIN;"
    echo "INSERT INTO scan_host ($cols) SELECT $shifted FROM stage_host;"
    for t in $children; do
        echo "INSERT INTO $t SELECT (s).* FROM (SELECT s #= hstore('host_id', (s.host_id + $k * 10000000)::text) AS s FROM stage_$t s) x;"
    done
    echo "COMMIT;"
}

declare -A R
for s in old new; do
    db=scale_bench_$s; url=$(db_url $db)
    psql -X -q "$admin" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    for f in sql/0*.sql; do
        v=$(basename "$f" | cut -c1-4)
        if [ "$s" = old ] && [ "$v" -ge 10 ]; then continue; fi
        psql -X -q -v ON_ERROR_STOP=1 "$url" -f "$f" >/dev/null
    done
    psql -X -q "$url" -c "CREATE EXTENSION IF NOT EXISTS hstore" \
        -c "CREATE UNLOGGED TABLE stage_host AS SELECT * FROM scan_host WITH NO DATA"
    psql -X -q "$url" -c "\\copy scan_file FROM '$work/scan_file.tsv'"
    if [ $s = old ]; then
        psql -X -q "$url" -c "\\copy stage_host ($host_cols, doc) FROM '$work/host_old.tsv'"
    else
        psql -X -q "$url" -c "\\copy stage_host ($host_cols, doc, open_ports, services, products) FROM '$work/host_new.tsv'"
    fi
    for t in $children; do
        psql -X -q "$url" -c "CREATE UNLOGGED TABLE stage_$t AS SELECT * FROM $t WITH NO DATA" \
            -c "\\copy stage_$t FROM '$work/$t.tsv'"
    done
    psql -X -q "$url" -c "VACUUM ANALYZE"
    secs=$(insert_batch $s 0 | timed "$url")
    R[$s,empty]=$(echo "$M / $secs" | bc -l)
    gin=gin_$s
    psql -X -q "$url" -c "DROP INDEX ${!gin// /, }"
    t0=$(date +%s.%N)
    for k in $(seq 1 $((N / M - 1))); do insert_batch $s "$k" | psql -X -q -v ON_ERROR_STOP=1 "$url" >/dev/null; done
    R[$s,bulk]=$(echo "$N / ($(date +%s.%N) - $t0)" | bc -l)
    t0=$(date +%s.%N)
    for i in ${!gin}; do
        def=$(grep -h "CREATE INDEX $i ON" sql/0*.sql | head -n 1)
        psql -X -q "$url" -c "SET maintenance_work_mem = '512MB'" -c "$def"
    done
    psql -X -q "$url" -c "VACUUM ANALYZE"
    R[$s,gin]=$(echo "$(date +%s.%N) - $t0" | bc)
    R[$s,bytes]=$(psql -X -Atq "$url" -c "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c
        WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace AND c.relname LIKE 'scan\\_%'")
    R[$s,hosts]=$(psql -X -Atq "$url" -c "SELECT count(*) FROM scan_host")
    secs=$(insert_batch $s $((N / M)) | timed "$url")
    R[$s,full]=$(echo "$M / $secs" | bc -l)
    psql -X -q "$url" -c "VACUUM ANALYZE"
done

# The SQL of each schema's filter compiler (ivre-scancli --count / --top).
declare -A Q
Q[old,port]="SELECT count(*) FROM scan_host h WHERE EXISTS (SELECT 1 FROM scan_port p WHERE p.host_id = h.id AND p.protocol = 'tcp' AND p.port = 80 AND p.state = 'open')"
Q[new,port]="SELECT count(*) FROM scan_host h WHERE h.open_ports && '{tcp/80}'::text[]"
Q[old,service]="SELECT count(*) FROM scan_host h WHERE EXISTS (SELECT 1 FROM scan_port p WHERE p.host_id = h.id AND p.service_name = 'http')"
Q[new,service]="SELECT count(*) FROM scan_host h WHERE h.services && '{http}'::text[]"
Q[old,product]="SELECT count(*) FROM scan_host h WHERE EXISTS (SELECT 1 FROM scan_port p WHERE p.host_id = h.id AND p.service_product = 'Microsoft IIS httpd')"
Q[new,product]="SELECT count(*) FROM scan_host h WHERE h.products && '{Microsoft IIS httpd}'::text[]"
for s in old new; do
    Q[$s,regex]="SELECT count(*) FROM scan_host h WHERE EXISTS (SELECT 1 FROM scan_script s WHERE s.host_id = h.id AND s.name = 'http-title' AND s.output ~* 'Microsoft')"
    Q[$s,topport]="SELECT p.protocol, p.port, count(*) FROM scan_port p WHERE p.port <> -1 GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 10"
    Q[$s,topservice]="SELECT p.service_name, count(*) FROM scan_port p WHERE p.port <> -1 AND p.state = 'open' GROUP BY 1 ORDER BY 2 DESC LIMIT 10"
    Q[$s,topproduct]="SELECT p.service_name, p.service_product, count(*) FROM scan_port p WHERE p.port <> -1 AND p.state = 'open' GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 10"
done
best() { # url sql
    local best=999999 t0 d
    psql -X -q "$1" -c "$2" >/dev/null
    for _ in $(seq "$RUNS"); do
        t0=$(date +%s.%N); psql -X -q "$1" -c "$2" >/dev/null
        d=$(echo "$(date +%s.%N) - $t0" | bc)
        if (( $(echo "$d < $best" | bc) )); then best=$d; fi
    done
    printf '%.3f' "$best"
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); N=$N M=$M"
printf '%-46s %14s %14s\n' "" "before (0009)" "after (0010)"
printf '%-46s %14.0f %14.0f\n' "insert $M hosts into an empty db, hosts/s" "${R[old,empty]}" "${R[new,empty]}"
printf '%-46s %14.0f %14.0f\n' "insert $M hosts into $N hosts, hosts/s" "${R[old,full]}" "${R[new,full]}"
printf '%-46s %13.0f%% %13.0f%%\n' "  ratio (at N / empty)" "$(echo "100 * ${R[old,full]} / ${R[old,empty]}" | bc -l)" \
    "$(echo "100 * ${R[new,full]} / ${R[new,empty]}" | bc -l)"
printf '%-46s %14.0f %14.0f\n' "bulk insert without GIN, hosts/s" "${R[old,bulk]}" "${R[new,bulk]}"
printf '%-46s %14.1f %14.1f\n' "GIN build + vacuum analyze, s" "${R[old,gin]}" "${R[new,gin]}"
printf '%-46s %14.0f %14.0f\n' "size per host (tables + indexes), bytes" \
    "$(echo "${R[old,bytes]} / ${R[old,hosts]}" | bc -l)" "$(echo "${R[new,bytes]} / ${R[new,hosts]}" | bc -l)"
printf '%-46s %14s %14s\n' "  JSON input per host, bytes" "$json_per_host" "$json_per_host"
for q in port service product regex topport topservice topproduct; do
    o=$(best "$(db_url scale_bench_old)" "${Q[old,$q]}"); n=$(best "$(db_url scale_bench_new)" "${Q[new,$q]}")
    ro=$(psql -X -Atq "$(db_url scale_bench_old)" -c "${Q[old,$q]}" | head -n 1)
    rn=$(psql -X -Atq "$(db_url scale_bench_new)" -c "${Q[new,$q]}" | head -n 1)
    printf '%-46s %12s s %12s s   (%s | %s)\n' "$q" "$o" "$n" "$ro" "$rn"
done
[ "${KEEP:-0}" = 1 ] || psql -X -q "$admin" -c "DROP DATABASE scale_bench_old" -c "DROP DATABASE scale_bench_new"
