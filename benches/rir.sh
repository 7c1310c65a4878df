#!/usr/bin/env bash
# Benchmark of ivre-rirlookup: the import of an RPSL dump against a raw COPY
# of the very rows it stored, and narrowest-range lookups against the same
# SQL run in psql, in the same run, on the same server.
#
#   benches/rir.sh [OBJECTS [LOOKUPS]]     (default 300000 objects, 2000 lookups)
#
# The dump is generated from the object shapes of tests/data/rir (an
# inetnum allocation per 64 objects holding /24 assignments, one inet6num
# and one aut-num per 16 objects), with fresh ranges and names.
# Database: a database `rir_bench` (re-created, dropped at the end) on
# postgresql://root@127.0.0.1/ unless IVRE_BENCH_DB names another server URL
# ending in /postgres. PROFILE=debug runs the debug build (figures then only
# comparable with each other, not with release builds).
set -euo pipefail

OBJECTS=${1:-300000}
LOOKUPS=${2:-2000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/rir-bench}
PROFILE=${PROFILE:-release}
BIN=$ROOT/target/$PROFILE/ivre-rirlookup
ADMIN=${IVRE_BENCH_DB:-postgresql://root@127.0.0.1/postgres}
DB=${ADMIN%/*}/rir_bench
mkdir -p "$BENCH_DIR"

echo "building the $PROFILE binary..." >&2
if [ "$PROFILE" = release ]; then
    (cd "$ROOT" && cargo build --release --quiet --bin ivre-rirlookup)
else
    (cd "$ROOT" && cargo build --quiet --bin ivre-rirlookup)
fi

DUMP=$BENCH_DIR/bench-$OBJECTS.db
if [ ! -s "$DUMP" ]; then
    echo "generating $OBJECTS objects..." >&2
    python3 - "$OBJECTS" "$DUMP" <<'EOF'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    for i in range(n):
        block, k = divmod(i, 64)
        # 16 /18 blocks per /8 from 20.0.0.0, each /24 of a block assigned once.
        a = 20 + block // 1024
        b = (block % 1024) // 4
        c = (block % 4) * 64
        if k == 0:
            f.write(f"inetnum:        {a}.{b}.{c}.0 - {a}.{b}.{c + 63}.255\n"
                    f"netname:        ALLOC-{block}\n"
                    f"descr:          Allocation {block}\n"
                    "country:        EU # Country is really world wide\n"
                    "org:            ORG-TT1-TEST\nadmin-c:        AA1-TEST\n"
                    "status:         ALLOCATED PA\nmnt-by:         TEST-ROOT-MNT\n"
                    "source:         TEST\n\n")
        elif k % 16 == 1:
            f.write(f"inet6num:       2001:db8:{block:x}:{k:x}::/64\n"
                    f"netname:        V6-{i}\ndescr:          Training Services {i}\n"
                    "country:        NL\nstatus:         ASSIGNED\n"
                    "mnt-by:         TS1-MNT\nsource:         TEST\n\n")
        elif k % 16 == 2:
            f.write(f"aut-num:        AS{64512 + i}\nas-name:        BENCH-AS-{i}\n"
                    f"descr:          ASN of attendee {i}\n"
                    "import:         from AS-set-attendees accept ANY\n"
                    "export:         to AS-set-attendees announce ANY\n"
                    "mnt-by:         TS1-MNT\nsource:         TEST\n\n")
        else:
            f.write(f"inetnum:        {a}.{b}.{c + k - 1}.0 - {a}.{b}.{c + k - 1}.255\n"
                    f"netname:        Example-Network-{i}\n"
                    "descr:          This is a fictitious assignment for the\n"
                    f"descr:          End-User called \"Example {i}\"\n"
                    "country:        GB\nadmin-c:        JS1-TEST\ntech-c:         JS1-TEST\n"
                    "status:         ASSIGNED PA\nnotify:         john.smith@example.com\n"
                    "mnt-by:         EXAMPLE-MNT\nsource:         TEST\n\n")
EOF
fi
ls -l "$DUMP" >&2

psql -q "$ADMIN" -c "DROP DATABASE IF EXISTS rir_bench" -c "CREATE DATABASE rir_bench"
trap 'psql -q "$ADMIN" -c "DROP DATABASE IF EXISTS rir_bench WITH (FORCE)"' EXIT
# Schema first, so that the import time holds no migration.
IVRE_DB=$DB "$BIN" --count >/dev/null

t0=$(date +%s.%N)
IVRE_DB=$DB "$BIN" --insert "$DUMP"
t1=$(date +%s.%N)
rows=$(psql -qAt "$DB" -c "SELECT count(*) FROM rir")

# The very rows, exported then copied back into the emptied table (same
# indexes, same generated columns).
COLS="kind, start, stop, size, net, aut_num, netname, descr, country, as_name, attrs, file_id, source_file, source_hash"
psql -q "$DB" -c "\\copy (SELECT $COLS FROM rir) TO '$BENCH_DIR/rows.tsv'"
psql -q "$DB" -c "TRUNCATE rir" -c "CHECKPOINT"
t2=$(date +%s.%N)
psql -q "$DB" -c "BEGIN" -c "\\copy rir ($COLS) FROM '$BENCH_DIR/rows.tsv'" -c "COMMIT" -c "ANALYZE rir"
t3=$(date +%s.%N)

# Lookups: addresses spread over the generated space.
ADDRS=$(python3 -c "
import random
random.seed(1)
n = max(1, $OBJECTS // 64)
for _ in range($LOOKUPS):
    block = random.randrange(n)
    a, b, c = 20 + block // 1024, (block % 1024) // 4, (block % 4) * 64
    print(f'{a}.{b}.{c + random.randrange(64)}.{random.randrange(256)}')
")
t4=$(date +%s.%N)
# shellcheck disable=SC2086
IVRE_DB=$DB "$BIN" --short $ADDRS >"$BENCH_DIR/lookups.txt"
t5=$(date +%s.%N)
# The key of an IPv4 address in rir.net is its integer.
echo "$ADDRS" | python3 -c "
import ipaddress, sys
for a in sys.stdin.read().split():
    k = int(ipaddress.ip_address(a))
    print(f\"SELECT kind, netname, country FROM rir WHERE net @> {k}::numeric ORDER BY (kind = 'aut-num'), size, start DESC, stop, aut_num LIMIT 1;\")
" >"$BENCH_DIR/lookups.sql"
t6=$(date +%s.%N)
psql -qAt "$DB" -f "$BENCH_DIR/lookups.sql" >/dev/null
t7=$(date +%s.%N)

python3 - "$OBJECTS" "$rows" "$LOOKUPS" "$t0" "$t1" "$t2" "$t3" "$t4" "$t5" "$t6" "$t7" "$(stat -c %s "$DUMP")" <<'EOF'
import sys
objects, rows, lookups = map(int, sys.argv[1:4])
t0, t1, t2, t3, t4, t5, t6, t7 = map(float, sys.argv[4:12])
size = int(sys.argv[12])
imp, copy = t1 - t0, t3 - t2
look, psql = t5 - t4, t7 - t6
print(f"dump: {objects} objects generated, {size / 1e6:.1f} MB; {rows} rows stored")
print(f"ivre-rirlookup --insert: {imp:.2f} s, {rows / imp:,.0f} objects/s, {size / 1e6 / imp:.1f} MB/s")
print(f"raw COPY of the same rows: {copy:.2f} s, {rows / copy:,.0f} rows/s")
print(f"insert / COPY time: {imp / copy:.2f}")
print(f"{lookups} lookups in one ivre-rirlookup --short run: {look:.2f} s ({lookups / look:,.0f}/s)")
print(f"the same {lookups} queries in one psql session: {psql:.2f} s ({lookups / psql:,.0f}/s)")
EOF
