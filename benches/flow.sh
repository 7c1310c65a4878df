#!/usr/bin/env bash
# Benchmark of ivre-zeek2db against a raw COPY of the same rows, in the same
# run, on the same server; then query times of ivre-flowcli on the result.
#
#   benches/flow.sh [LINES [NETFLOW]]   (defaults 5000000 and 1000000)
#
# A Zeek conn.log of LINES connections is generated with the header and
# column shapes of tests/data/flow/mongo_conn.log: 20 000 clients, 2 000
# servers, TCP and UDP on a dozen common ports, one month of timestamps,
# ephemeral source ports: about 100 000 distinct flows (realistic repetition:
# ~50 connections per flow at 5 M lines). Then, in a fresh database:
#   - ivre-zeek2db -C (no cleanup) timed with /usr/bin/time -v: wall time,
#     lines/s, CPU, peak RSS;
#   - psql \copy of the same data lines into a table of as many text
#     columns: the raw COPY rate of the same rows;
#   - ivre-flowcli --count, --top dport, --top src.addr --sum csbytes
#     scbytes, --graph --limit 1000 (wall time of each);
#   - the same count, top and listing in SQL (psql) on flow_total, and on
#     the view of sql/0006_flow.sql (every month of every flow merged at
#     query time), recreated over the same tables: the queries before and
#     after migration 0009, same data, same run; and the listing as
#     ivre-flowcli reads it since 0014 (the keys of a page from flow_key,
#     then the rows of flow of those keys, united by the client).
# The import runs with -v: its log (zeek2db.out) says how many flow rows
# the compaction at the end of the file merged, and how long it took.
# Then NETFLOW connections of the same shapes are sent as NetFlow v5
# records (one per direction, benches/netflow_v5.py) to an nfcapd
# collector; its capture file is imported with ivre-flow2db -C, against
# nfdump alone writing the CSV the importer reads, and a raw COPY of
# that CSV (the same rows).
#
# Database: $IVRE_DB if set (its flows are removed first), else a database
# `flow_bench` created (dropped first) on postgresql://root@127.0.0.1/.
# Generated files are kept in $BENCH_DIR (default /tmp/ivre-bench) and reused.
set -euo pipefail

LINES=${1:-5000000}
NETFLOW=${2:-1000000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/ivre-bench}
FIXTURE=$ROOT/tests/data/flow/mongo_conn.log
BIN=$ROOT/target/release
mkdir -p "$BENCH_DIR"

[ -x /usr/bin/time ] || { echo "installing GNU time" >&2; apt-get install -y time >/dev/null; }

echo "building release binaries..." >&2
(cd "$ROOT" && cargo build --release --quiet --bin ivre-zeek2db --bin ivre-flow2db --bin ivre-flowcli)

if [ -n "${IVRE_DB:-}" ]; then
    DB=$IVRE_DB
    fresh() {
        psql -q "$DB" -c "DROP TABLE IF EXISTS flow_copy"
        "$BIN/ivre-flowcli" --db "$DB" --init -y
    }
elif psql -qAt 'postgresql://root@127.0.0.1/postgres' -c 'SELECT 1' >/dev/null 2>&1; then
    DB='postgresql://root@127.0.0.1/flow_bench'
    fresh() {
        psql -q 'postgresql://root@127.0.0.1/postgres' \
            -c 'DROP DATABASE IF EXISTS flow_bench WITH (FORCE)' -c 'CREATE DATABASE flow_bench'
    }
else
    echo "no database: set IVRE_DB, or run a PostgreSQL server on 127.0.0.1 for user root" >&2
    exit 1
fi

# timed LABEL CMD...: runs CMD under /usr/bin/time -v, prints "wall_seconds
# max_rss_kB cpu_seconds" (cpu: the command's own; the server's work is in
# the wall time only).
timed() {
    local label=$1
    shift
    /usr/bin/time -v -o "$BENCH_DIR/$label.time" "$@" >"$BENCH_DIR/$label.out" 2>&1 || {
        cat "$BENCH_DIR/$label.out" >&2
        exit 1
    }
    awk -F': ' '
        /Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i] }
        /Maximum resident set size/ { rss = $2 }
        /User time \(seconds\)/ { cpu += $2 }
        /System time \(seconds\)/ { cpu += $2 }
        END { printf "%.2f %d %.2f\n", s, rss, cpu }' "$BENCH_DIR/$label.time"
}

LOG=$BENCH_DIR/conn-$LINES.log
if [ ! -s "$LOG" ]; then
    echo "generating $LOG ($LINES lines)..." >&2
    {
        grep '^#' "$FIXTURE" | grep -v '^#close'
        awk -v n="$LINES" 'BEGIN {
            srand(42);
            split("80 443 53 22 25 123 8080 3306 5432 27017 389 445", ports, " ");
            split("tcp tcp udp tcp tcp udp tcp tcp tcp tcp tcp tcp", protos, " ");
            split("SF S0 REJ RSTO SF SF", states, " ");
            t0 = 1573000000; span = 30 * 86400;
            for (i = 0; i < n; i++) {
                c = int(rand() * rand() * 20000);      # a few busy clients
                s = (c * 37 + int(rand() * 4)) % 2000;   # each client talks to ~4 servers
                p = (c + s) % 12 + 1;                   # each pair talks on one or two ports
                if (rand() < 0.3) p = p % 12 + 1;
                ts = t0 + i * span / n;
                ob = int(rand() * 2000); rb = int(rand() * 50000);
                op = int(ob / 500) + 1; rp = int(rb / 1400) + 1;
                printf "%.6f\tC%09d\t10.%d.%d.%d\t%d\t172.16.%d.%d\t%d\t%s\t-\t%.6f\t%d\t%d\t%s\t-\t-\t0\tShADadFf\t%d\t%d\t%d\t%d\t-\n",
                    ts, i, int(c / 65536), int(c / 256) % 256, c % 256, 32768 + int(rand() * 28000),
                    int(s / 256), s % 256, ports[p], protos[p], rand() * 5, ob, rb,
                    states[int(rand() * 6) + 1], op, ob + 40 * op, rp, rb + 40 * rp;
            }
        }'
    } >"$LOG"
fi
cat "$LOG" >/dev/null # in the page cache

fresh
read -r wall rss cpu < <(timed zeek2db "$BIN/ivre-zeek2db" --db "$DB" -v -C "$LOG")
grep -h 'merged into others' "$BENCH_DIR/zeek2db.out" >&2 || true
flows=$(psql -qAt "$DB" -c 'SELECT count(*) FROM flow_key')
rows=$(psql -qAt "$DB" -c 'SELECT count(*) FROM flow')
size=$(psql -qAt "$DB" -c "SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_class c WHERE c.relname LIKE 'flow%' AND c.relkind IN ('r', 'p')")

# The raw COPY of the same data lines: 21 text columns, no index.
cols=$(for i in $(seq 1 21); do printf 'c%d text,' "$i"; done)
psql -q "$DB" -c "DROP TABLE IF EXISTS flow_copy" -c "CREATE TABLE flow_copy (${cols%,})"
grep -v '^#' "$LOG" >"$BENCH_DIR/conn-$LINES.tsv"
read -r cwall _ _ < <(timed copy psql -q "$DB" -c "\\copy flow_copy FROM '$BENCH_DIR/conn-$LINES.tsv'")
psql -q "$DB" -c "DROP TABLE flow_copy"
rm -f "$BENCH_DIR/conn-$LINES.tsv"

awk -v l="$LINES" -v w="$wall" -v r="$rss" -v c="$cpu" -v f="$flows" -v rows="$rows" -v s="$size" -v cw="$cwall" 'BEGIN {
    printf "ivre-zeek2db: %d lines in %.1f s = %.0f lines/s (CPU %.1f s, peak RSS %.0f MB); %d flows (%d month rows, %s)\n",
        l, w, l / w, c, r / 1024, f, rows, s;
    printf "psql \\copy of the same %d rows: %.1f s = %.0f rows/s; zeek2db / COPY time: %.2f\n", l, cw, l / cw, w / cw;
}'

for q in "--count" "--top dport" "--top src.addr --sum csbytes scbytes --limit 10" "--graph --limit 1000"; do
    # shellcheck disable=SC2086
    read -r qwall qrss _ < <(timed query "$BIN/ivre-flowcli" --db "$DB" $q)
    printf 'ivre-flowcli %-50s %6.2f s (peak RSS %.0f MB)\n' "$q" "$qwall" "$(echo "$qrss / 1024" | bc -l)"
done

# The view of sql/0006_flow.sql over the same rows: what the queries read
# before migration 0009.
psql -q "$DB" -c "CREATE OR REPLACE VIEW flow_total_0006 AS
SELECT k.id, k.src, k.dst, k.proto, k.dport, k.type, k.schema_version,
       a.count, a.cspkts, a.scpkts, a.csbytes, a.scbytes, a.firstseen, a.lastseen,
       a.sports, a.codes, a.times, a.meta
FROM flow_key k
CROSS JOIN LATERAL (
    SELECT sum(f.count)::bigint AS count,
           sum(f.cspkts)::bigint AS cspkts, sum(f.scpkts)::bigint AS scpkts,
           sum(f.csbytes)::bigint AS csbytes, sum(f.scbytes)::bigint AS scbytes,
           min(f.firstseen) AS firstseen, max(f.lastseen) AS lastseen,
           flow_int_set(f.sports) AS sports, flow_int_set(f.codes) AS codes,
           flow_slot_set(f.times) AS times, flow_meta_set(f.meta) AS meta
    FROM flow f WHERE f.key_id = k.id GROUP BY f.key_id) a"
sqltime() {
    local start end
    start=$(date +%s.%N)
    psql -qAt "$DB" -c "$1" >/dev/null
    end=$(date +%s.%N)
    echo "$end - $start" | bc -l
}
for v in flow_total flow_total_0006; do
    c=$(sqltime "SELECT count(DISTINCT src), count(DISTINCT dst), count(*) FROM $v")
    t=$(sqltime "SELECT dport, count(*) FROM $v GROUP BY 1 ORDER BY 2 DESC LIMIT 10")
    l=$(sqltime "SELECT id, src, dst, proto, dport, count, csbytes, firstseen, lastseen, sports, times FROM $v ORDER BY id LIMIT 1000")
    printf 'SQL on %-16s count %6.2f s, top dport %6.2f s, 1000 flows with their sets %6.2f s\n' "$v" "$c" "$t" "$l"
done
l=$(sqltime "WITH k AS (SELECT id, src, dst, proto, dport, count, csbytes, firstseen, lastseen FROM flow_key ORDER BY id LIMIT 1000)
    SELECT k.*, f.sports, f.times FROM k LEFT JOIN flow f ON f.key_id = k.id")
printf 'SQL, keys of flow_key then their rows of flow (the listing since 0014): 1000 flows with their sets %6.2f s\n' "$l"
psql -q "$DB" -c "DROP VIEW flow_total_0006"

# NetFlow: a capture of the same shapes, through nfdump.
NFDIR=$BENCH_DIR/nfcapd-$NETFLOW
if ! ls "$NFDIR"/nfcapd.2* >/dev/null 2>&1; then
    echo "generating an nfcapd capture of $NETFLOW connections..." >&2
    command -v nfcapd >/dev/null || { echo "nfcapd missing: apt-get install nfdump" >&2; exit 1; }
    rm -rf "$NFDIR"
    mkdir -p "$NFDIR"
    nfcapd -p 29995 -w "$NFDIR" -B 8388608 -t 86400 >"$BENCH_DIR/nfcapd.log" 2>&1 &
    nfpid=$!
    sleep 1
    python3 "$ROOT/benches/netflow_v5.py" "$NETFLOW" 29995
    sleep 2
    kill "$nfpid"
    wait "$nfpid" || true
fi
NF=$(ls "$NFDIR"/nfcapd.2* | head -1)
nfrecords=$(nfdump -r "$NF" -q -N -o csv 2>/dev/null | wc -l)
fresh
read -r nwall nrss ncpu < <(timed flow2db "$BIN/ivre-flow2db" --db "$DB" -C "$NF")
nflows=$(psql -qAt "$DB" -c 'SELECT count(*) FROM flow_key')
read -r dwall _ _ < <(timed nfdump sh -c "nfdump -a -q -N -o csv -r '$NF' >'$BENCH_DIR/nf.csv'")
ncols=$(head -1 "$BENCH_DIR/nf.csv" | awk -F, '{print NF}')
cols=$(for i in $(seq 1 "$ncols"); do printf 'c%d text,' "$i"; done)
psql -q "$DB" -c "DROP TABLE IF EXISTS flow_copy" -c "CREATE TABLE flow_copy (${cols%,})"
read -r ncwall _ _ < <(timed copy psql -q "$DB" -c "\\copy flow_copy FROM '$BENCH_DIR/nf.csv' (FORMAT csv)")
psql -q "$DB" -c "DROP TABLE flow_copy"
rm -f "$BENCH_DIR/nf.csv"
awk -v l="$nfrecords" -v w="$nwall" -v r="$nrss" -v c="$ncpu" -v f="$nflows" -v d="$dwall" -v cw="$ncwall" -v sz="$(stat -c %s "$NF")" 'BEGIN {
    printf "ivre-flow2db: nfcapd capture of %d records (%.0f MB) in %.1f s = %.0f records/s (CPU %.1f s, peak RSS %.0f MB); %d flows\n",
        l, sz / 1048576, w, l / w, c, r / 1024, f;
    printf "nfdump -o csv alone: %.1f s; psql \\copy of its CSV: %.1f s; flow2db / (nfdump + COPY): %.2f\n", d, cw, w / (d + cw);
}'
