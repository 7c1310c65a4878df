#!/usr/bin/env bash
# Same-run comparison of this tree against a baseline revision (for refactors
# that must not slow anything down): both are built in release mode, then each
# measure runs alternately on the baseline and on this tree, REPEAT times, and
# the best run of each side is kept.
#
#   benches/compare.sh [BASE_REV] [HOSTS] [LINES]   (defaults: HEAD~1 20000 500000)
#
# Measures (CPU = user + system of the tool, the stable figure on a shared
# machine; wall includes PostgreSQL's work):
#   scan2db -t      parsing HOSTS generated Nmap hosts to JSON, no database
#   scan2db         importing them into a fresh database
#   passiverecon2db importing LINES generated Zeek lines (dup mode)
#   scancli         --count --port 80, --top service, --json, on that database
#   ipinfo          --count --recontype HTTP_SERVER_HEADER, --top source, --json
#
# Needs a PostgreSQL server: IVRE_BENCH_DB admin URL, default
# postgresql://root@127.0.0.1/postgres; python3 and GNU time.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BASE_REV=$(git -C "$ROOT" rev-parse --short "${1:-HEAD~1}")
HOSTS=${2:-20000}
LINES=${3:-500000}
REPEAT=${REPEAT:-2}
admin=${IVRE_BENCH_DB:-postgresql://root@127.0.0.1/postgres}
db_url() { echo "${admin%/*}/$1"; }
work=$(mktemp -d)
base_src=$work/base
cleanup() {
    git -C "$ROOT" worktree remove --force "$base_src" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

echo "building $BASE_REV and this tree (release)..." >&2
git -C "$ROOT" worktree add -q --detach "$base_src" "$BASE_REV"
# A target dir of its own under ours, kept between runs as a build cache.
(cd "$base_src" && CARGO_TARGET_DIR=$ROOT/target/bench-base cargo build --release -q --bins)
(cd "$ROOT" && cargo build --release -q --bins)
declare -A BIN=([base]=$ROOT/target/bench-base/release [new]=$ROOT/target/release)

python3 "$ROOT/benches/gen_nmap_xml.py" "$HOSTS" "$work/scan.xml"
python3 "$ROOT/benches/gen_passive_recon.py" "$ROOT/tests/data/passive/zeek/passive_recon.log" \
    "$LINES" "$work/passive.log" "$work/passive.tsv" --mode dup
cat "$work/scan.xml" "$work/passive.log" >/dev/null # page cache

# timed CMD...: prints "wall_s cpu_s rss_kB" of CMD (stdout discarded).
timed() {
    /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" >/dev/null 2>"$work/stderr" || {
        cat "$work/stderr" >&2
        exit 1
    }
    awk '{ printf "%.2f %.2f %d\n", $1, $2 + $3, $4 }' "$work/time"
}

# One line of results per measure: best wall and CPU of each side, ratios.
declare -A best
record() { # side measure wall cpu rss
    local key=$1:$2
    if [ -z "${best[$key]:-}" ] || (($(echo "$3 < ${best[$key]%% *}" | bc))); then
        best[$key]="$3 $4 $5"
    fi
}

measures=()
declare -A seen
run_measure() { # name side command...
    local name=$1 side=$2
    shift 2
    [ -n "${seen[$name]:-}" ] || { seen[$name]=1; measures+=("$name"); }
    read -r wall cpu rss < <(timed "$@")
    record "$side" "$name" "$wall" "$cpu" "$rss"
}

for round in $(seq "$REPEAT"); do
    for side in base new; do
        echo "round $round: $side" >&2
        b=${BIN[$side]}
        sdb=ivre_cmp_scan_$side
        pdb=ivre_cmp_passive_$side
        psql -q "$admin" -c "DROP DATABASE IF EXISTS $sdb" -c "CREATE DATABASE $sdb" \
            -c "DROP DATABASE IF EXISTS $pdb" -c "CREATE DATABASE $pdb"
        # Schemas first, so that the timings cover the work only.
        "$b/ivre-scan2db" -q --db "$(db_url $sdb)" /dev/null
        "$b/ivre-p0f2db" -q --db "$(db_url $pdb)" /dev/null
        run_measure "scan2db -t" "$side" "$b/ivre-scan2db" -t "$work/scan.xml"
        run_measure "scan2db" "$side" "$b/ivre-scan2db" -q --db "$(db_url $sdb)" "$work/scan.xml"
        run_measure "passiverecon2db" "$side" \
            "$b/ivre-passiverecon2db" -q --db "$(db_url $pdb)" -s BENCH "$work/passive.log"
        psql -q "$(db_url $sdb)" -c "VACUUM ANALYZE"
        psql -q "$(db_url $pdb)" -c "VACUUM ANALYZE"
        run_measure "scancli --count --port 80" "$side" \
            "$b/ivre-scancli" --db "$(db_url $sdb)" --count --port 80
        run_measure "scancli --top service" "$side" \
            "$b/ivre-scancli" --db "$(db_url $sdb)" --top service
        run_measure "scancli --json" "$side" "$b/ivre-scancli" --db "$(db_url $sdb)" --json
        run_measure "ipinfo --count --recontype" "$side" \
            "$b/ivre-ipinfo" --db "$(db_url $pdb)" --count --recontype HTTP_SERVER_HEADER
        run_measure "ipinfo --top source" "$side" \
            "$b/ivre-ipinfo" --db "$(db_url $pdb)" --top source
        run_measure "ipinfo --json" "$side" "$b/ivre-ipinfo" --db "$(db_url $pdb)" --json
    done
done
for side in base new; do
    psql -q "$admin" -c "DROP DATABASE ivre_cmp_scan_$side" -c "DROP DATABASE ivre_cmp_passive_$side"
done

echo "baseline $BASE_REV, this tree $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet || echo '+changes'); $HOSTS hosts, $LINES lines, best of $REPEAT"
printf '| %-28s | %8s | %8s | %6s | %8s | %8s | %6s | %9s | %9s |\n' measure "base wall" "new wall" ratio \
    "base CPU" "new CPU" ratio "base RSS" "new RSS"
printf '|%s|\n' "------------------------------|----------|----------|--------|----------|----------|--------|-----------|-----------"
for m in "${measures[@]}"; do
    read -r bw bc br <<<"${best[base:$m]}"
    read -r nw nc nr <<<"${best[new:$m]}"
    ratio() { if (($(echo "$1 > 0" | bc))); then printf '%.2f' "$(echo "$2 / $1" | bc -l)"; else echo -; fi; }
    printf '| %-28s | %7.2fs | %7.2fs | %6s | %7.2fs | %7.2fs | %6s | %6d MB | %6d MB |\n' "$m" \
        "$bw" "$nw" "$(ratio "$bw" "$nw")" "$bc" "$nc" "$(ratio "$bc" "$nc")" $((br / 1024)) $((nr / 1024))
done
