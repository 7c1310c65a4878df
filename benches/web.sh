#!/usr/bin/env bash
# Benchmark of ivre-httpd (not a test): loads N host records (default
# 1,000,000, made from IVRE's golden records with fresh addresses) into a
# throwaway private cluster, starts ivre-httpd on 127.0.0.1, and measures
# requests/s and latency percentiles (p50, p99) at C concurrent clients
# (default 64) for a count, a top and a 1,000-record listing, with ab
# (apt-get install apache2-utils) or oha when installed; then the same
# queries with ivre-scancli, the baseline of the query layer alone, in the
# same run. Every request goes to this machine's loopback only, bounded in
# number (REQS per query, LIST_REQS for the listing) and time.
#
#   benches/web.sh                          # N=1000000
#   N=100000 REQS=2000 benches/web.sh
#   BENCH_DIR=/tmp/webbench STAGE=load benches/web.sh   # load, keep the cluster
#   BENCH_DIR=/tmp/webbench STAGE=run benches/web.sh    # measure on it again
#   SKIP_BUILD=1 ...                        # use the target/release binaries as they are
#   RENDER_ONLY=1 HOSTS_FROM=simple N=200000 benches/web.sh
#                                           # only the first render of the view page, on
#                                           # generated simple hosts (gen_nmap_xml.py)
#
# The first render of the web UI's view page: headless Chromium (Debian's
# chromium and chromium-driver; skipped without them), a fresh browser
# profile each time (nothing cached), from navigation start to the first
# host cards in the DOM and to the frame that paints them (two animation
# frames later), RUNS times (default 5); the baseline, in the same run: the
# same page over IVRE's sample corpus (945 scan records, their view) in a
# second database of the same cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
C=${C:-64}
REQS=${REQS:-5000}
LIST_REQS=${LIST_REQS:-640}
STAGE=${STAGE:-all}
OHA=${OHA:-$(command -v oha || true)}
AB=${AB:-$(command -v ab || true)}
RENDER_ONLY=${RENDER_ONLY:-0}
RUNS=${RUNS:-5}
[ "$RENDER_ONLY" = 1 ] || [ -n "$OHA$AB" ] || { echo "no load generator: apt-get install apache2-utils (ab), or cargo install oha" >&2; exit 1; }

if [ "${SKIP_BUILD:-0}" != 1 ]; then
    cargo build --release -q --bin ivre-httpd --bin ivre-scancli --bin ivre-db2view --bin ivre-scan2db
    cargo build --release -q -p ivre-pg --example scan_bench_load
fi
HTTPD=$PWD/target/release/ivre-httpd
SCANCLI=$PWD/target/release/ivre-scancli
DB2VIEW=$PWD/target/release/ivre-db2view
SCAN2DB=$PWD/target/release/ivre-scan2db
LOADER=$PWD/target/release/examples/scan_bench_load

if [ -n "${BENCH_DIR:-}" ]; then
    BENCH=$BENCH_DIR
    mkdir -p "$BENCH"
    KEEP=1
else
    BENCH=$(mktemp -d /tmp/ivre-web-bench-XXXXXX)
fi
chmod 755 "$BENCH"
export XDG_DATA_HOME=$BENCH
unset IVRE_DB PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGPASSWORD
PGDIR=$BENCH/ivre/pg
SERVER=
SERVER2=
cleanup() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true
    [ -n "$SERVER2" ] && kill "$SERVER2" 2>/dev/null && wait "$SERVER2" 2>/dev/null || true
    if [ -f "$PGDIR/data/postmaster.pid" ]; then
        local pm
        pm=$(head -n1 "$PGDIR/data/postmaster.pid")
        kill -INT "$pm" 2>/dev/null || true
        while kill -0 "$pm" 2>/dev/null; do sleep 1; done
    fi
    [ "${KEEP:-0}" = 1 ] || rm -rf "$BENCH"
}
trap cleanup EXIT

"$SCANCLI" --count >/dev/null 2>&1   # creates (or starts) the private cluster and the schema
CONN="host=$PGDIR user=ivre dbname=ivre"
if [ "$STAGE" != run ]; then
    if [ "${HOSTS_FROM:-golden}" = simple ]; then
        echo "== loading $N simple hosts (benches/gen_nmap_xml.py, ivre-scan2db)"
        python3 benches/gen_nmap_xml.py "$N" "$BENCH/hosts.xml"
        time "$SCAN2DB" -q -s BENCH "$BENCH/hosts.xml"
        rm -f "$BENCH/hosts.xml"
    else
        echo "== loading $N hosts"
        time "$LOADER" tests/data/golden/ivre-nmap-records.jsonl.gz "$N"
    fi
    echo "== building the view"
    time "$DB2VIEW" -q
    psql -X -q "$CONN" -c "VACUUM ANALYZE" >/dev/null
fi
[ "$STAGE" = load ] && exit 0
HOSTS=$("$SCANCLI" --count)
echo "== $HOSTS hosts in the database"

"$HTTPD" --port 0 --pool-size 16 -q > "$BENCH/httpd.out" &
SERVER=$!
for _ in $(seq 100); do [ -s "$BENCH/httpd.out" ] && break; sleep 0.1; done
BASE=$(sed -n 's/^ivre-httpd: listening on //p' "$BENCH/httpd.out")
echo "== $BASE, $C clients"

run() { # name, path, requests[, clients]
    local name=$1 path=$2 n=$3 C=${4:-$C}
    echo "-- $name: GET $path ($n requests, $C clients)"
    curl -sf -o /dev/null "$BASE$path"   # warm-up, and fail early
    if [ -n "$OHA" ]; then
        "$OHA" --no-tui -n "$n" -c "$C" "$BASE$path" \
            | grep -E 'Requests/sec|Slowest|Fastest|50(\.00)?% in|99(\.00)?% in|\[[0-9]{3}\]' || true
    else
        "$AB" -q -n "$n" -c "$C" "$BASE$path" \
            | grep -E 'Complete requests|Failed requests|Non-2xx|Requests per second|Total transferred|^ +(50|99|100)%' || true
    fi
}

render() { # label, root URL
    if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
        echo "-- first render: skipped (apt-get install chromium chromium-driver)"
        return
    fi
    echo "-- first render of the view page, $1 ($RUNS runs, fresh profile each)"
    python3 - "$2" "$RUNS" <<'PY'
import json, statistics, subprocess, sys, time, urllib.request
url, runs = sys.argv[1], int(sys.argv[2])
drv = subprocess.Popen(["chromedriver", "--port=0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
port = None
for line in drv.stdout:
    if "started successfully on port " in line:
        port = int(line.split("port ")[1].strip().rstrip("."))
        break
base = f"http://127.0.0.1:{port}"
def call(method, path, body=None):
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.load(r)["value"]
# At document start: note when the first host cards enter the DOM, and the
# frame after the one that paints them.
probe = """new MutationObserver((m, o) => {
  if (!document.querySelector('#hosts .card')) return;
  o.disconnect();
  const t = performance.now();
  requestAnimationFrame(() => requestAnimationFrame(() => {
    window.__ivre = [t, performance.now(), document.querySelectorAll('#hosts .card').length];
  }));
}).observe(document, {childList: true, subtree: true});"""
dom, painted = [], []
try:
    for _ in range(runs):
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {"args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000", "--no-first-run", "--disable-extensions"]}}}}
        sid = call("POST", "/session", caps)["sessionId"]
        try:
            call("POST", f"/session/{sid}/goog/cdp/execute", {"cmd": "Page.addScriptToEvaluateOnNewDocument", "params": {"source": probe}})
            call("POST", f"/session/{sid}/url", {"url": url})
            deadline = time.time() + 60
            while True:
                v = call("POST", f"/session/{sid}/execute/sync", {"script": "return window.__ivre || null;", "args": []})
                if v or time.time() > deadline:
                    break
                time.sleep(0.05)
            if not v:
                print("   no host cards after 60 s"); sys.exit(1)
            dom.append(v[0]); painted.append(v[1])
            print(f"   cards in the DOM at {v[0]:.0f} ms, painted by {v[1]:.0f} ms ({v[2]} cards)")
        finally:
            call("DELETE", f"/session/{sid}")
    print(f"   median: DOM {statistics.median(dom):.0f} ms, painted {statistics.median(painted):.0f} ms")
finally:
    drv.terminate()
PY
}
if [ "$RENDER_ONLY" = 1 ] || [ "${RENDER:-1}" = 1 ]; then
    echo "== baseline database: IVRE's samples and their view (same cluster)"
    psql -X -q "$CONN" -c "DROP DATABASE IF EXISTS web_sample" -c "CREATE DATABASE web_sample" >/dev/null
    SAMPLE_DB="host=$PGDIR user=ivre dbname=web_sample"
    "$SCAN2DB" --db "$SAMPLE_DB" -q --port -c TEST -s SOURCE tests/data/ivre-samples/*.xml* tests/data/ivre-samples/*.json* >/dev/null
    "$DB2VIEW" --db "$SAMPLE_DB" -q
    "$HTTPD" --db "$SAMPLE_DB" --port 0 -q > "$BENCH/httpd2.out" &
    SERVER2=$!
    for _ in $(seq 100); do [ -s "$BENCH/httpd2.out" ] && break; sleep 0.1; done
    BASE2=$(sed -n 's/^ivre-httpd: listening on //p' "$BENCH/httpd2.out")
    echo "   $(curl -s "$BASE2/view/count") hosts in its view"
    echo "   $(curl -s "$BASE/view/count") hosts in the big view"
    render "$HOSTS hosts" "${BASE%/cgi}/"
    render "the sample corpus (baseline)" "${BASE2%/cgi}/"
    render "$HOSTS hosts, again" "${BASE%/cgi}/"
    kill "$SERVER2"; wait "$SERVER2" 2>/dev/null || true; SERVER2=
    psql -X -q "$CONN" -c "DROP DATABASE web_sample" >/dev/null
fi
[ "$RENDER_ONLY" = 1 ] && exit 0
run "count" "/scans/count?q=service:http" "$REQS"
run "top" "/scans/top/service" "$REQS"
run "1000-record listing" "/scans?q=limit:1000&format=ndjson" "$LIST_REQS"
echo "== one client at a time (the latency to compare with the baseline's)"
run "count" "/scans/count?q=service:http" 20 1
run "top" "/scans/top/service" 20 1
run "1000-record listing" "/scans?q=limit:1000&format=ndjson" 10 1

echo "== baseline: the query layer alone (ivre-scancli, one process per query, sequential)"
time "$SCANCLI" --count --service http
time "$SCANCLI" --top service >/dev/null
time "$SCANCLI" --json --limit 1000 | wc -c
