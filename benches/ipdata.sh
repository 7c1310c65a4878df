#!/usr/bin/env bash
# Benchmark of ivre-ipdata (not a test): batch lookups of N addresses read
# from stdin, against mmdblookup (Debian package mmdb-bin) over the same
# addresses in the same run, then the raw in-process lookup rate.
#
#   benches/ipdata.sh                 # test databases, 1 M addresses
#   N=200000 GEOIP_DIR=/var/lib/GeoIP benches/ipdata.sh
#
# Environment: N (addresses, default 1000000), SAMPLE (addresses given to
# mmdblookup, default 2000), GEOIP_DIR (databases under MaxMind's file
# names; default: the repository's test databases), SET (random: random IPv4
# addresses, the default; hits: random addresses inside the networks of the
# test *.source.json files, so that every lookup finds something).
#
# mmdblookup looks one address up in one database per process, so it is
# run once per address and database (ASN, Country, City: the work
# ivre-ipdata does per address) over the first SAMPLE addresses only, and
# its rate is extrapolated to N.
set -euo pipefail

N=${N:-1000000}
SAMPLE=${SAMPLE:-2000}
SET=${SET:-random}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TESTDATA=$ROOT/tests/data/geoip
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

command -v mmdblookup >/dev/null || {
    echo "mmdblookup not found: apt-get install -y mmdb-bin" >&2
    exit 1
}

if [ -z "${GEOIP_DIR:-}" ]; then
    GEOIP_DIR=$WORK/geoip
    mkdir -p "$GEOIP_DIR"
    for kind in ASN Country City; do
        ln -s "$TESTDATA/GeoLite2-$kind-Test.mmdb" "$GEOIP_DIR/GeoLite2-$kind.mmdb"
    done
fi
DBS=()
for f in GeoLite2-ASN.mmdb GeoIP2-Country.mmdb GeoLite2-Country.mmdb GeoIP2-City.mmdb GeoLite2-City.mmdb; do
    [ -e "$GEOIP_DIR/$f" ] || continue
    case $f in *Country*) [ "${HAVE_COUNTRY:-}" ] && continue; HAVE_COUNTRY=1 ;; esac
    case $f in *City*) [ "${HAVE_CITY:-}" ] && continue; HAVE_CITY=1 ;; esac
    DBS+=("$GEOIP_DIR/$f")
done

echo "== building (release)"
(cd "$ROOT" && cargo build --release --quiet --bin ivre-ipdata &&
    cargo build --release --quiet -p ivre-data --example lookup_rate)
BIN=$ROOT/target/release/ivre-ipdata

echo "== generating $N addresses ($SET)"
ADDRS=$WORK/addrs.txt
case $SET in
random)
    awk -v n="$N" 'BEGIN { srand(42); for (i = 0; i < n; i++)
        printf "%d.%d.%d.%d\n", int(rand()*256), int(rand()*256), int(rand()*256), int(rand()*256) }' >"$ADDRS"
    ;;
hits)
    grep -ohE '"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+/[0-9]+"' "$TESTDATA"/*.source.json | tr -d '"' |
        awk -v n="$N" -F'[./]' '{ base[NR] = (($1*256+$2)*256+$3)*256+$4; size[NR] = 2^(32-$5) }
        END { srand(42); for (i = 0; i < n; i++) { k = int(rand()*NR)+1
            a = base[k] + int(rand()*size[k])
            printf "%d.%d.%d.%d\n", int(a/16777216), int(a/65536)%256, int(a/256)%256, a%256 } }' >"$ADDRS"
    ;;
*) echo "unknown SET $SET" >&2; exit 2 ;;
esac
echo "databases: ${DBS[*]}"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (shared machine: figures are noisy)"

echo "== ivre-ipdata --json < $N addresses"
/usr/bin/time -v -o "$WORK/time.txt" "$BIN" --geoip-dir "$GEOIP_DIR" --json <"$ADDRS" >"$WORK/out.ndjson"
elapsed=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0
    for (i = 1; i <= n; i++) s = s*60 + t[i]; print s }' "$WORK/time.txt")
rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/time.txt")
cpu=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { print u + s }' "$WORK/time.txt")
lines=$(wc -l <"$WORK/out.ndjson")
found=$(grep -c '"as_num"\|"country_code"' "$WORK/out.ndjson" || true)
echo "$lines lines ($found with AS or country) in ${elapsed}s wall, ${cpu}s CPU, peak RSS ${rss} kB"
awk -v n="$N" -v t="$elapsed" -v c="$cpu" 'BEGIN { printf "ivre-ipdata: %.0f lookups/s wall, %.0f per CPU second\n", n/t, n/c }'

echo "== mmdblookup: first $SAMPLE addresses, one process per address and database (${#DBS[@]})"
head -n "$SAMPLE" "$ADDRS" >"$WORK/sample.txt"
start=$(date +%s.%N)
while read -r a; do
    for db in "${DBS[@]}"; do
        mmdblookup --file "$db" --ip "$a" >/dev/null 2>&1 || true
    done
done <"$WORK/sample.txt"
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" -v k="$SAMPLE" -v n="$N" -v t="$elapsed" 'BEGIN { d = e - s
    printf "mmdblookup: %d addresses in %.2fs: %.0f addresses/s, %.0fs extrapolated to %d (ivre-ipdata: %.1fs, %.0fx faster)\n",
        k, d, k/d, d*n/k, n, t, (d*n/k)/t }'

echo "== raw in-process rate (crates/ivre-data/examples/lookup_rate.rs)"
if [ "$GEOIP_DIR" = "$WORK/geoip" ]; then
    "$ROOT/target/release/examples/lookup_rate" - "$N"
else
    "$ROOT/target/release/examples/lookup_rate" "$GEOIP_DIR" "$N"
fi
