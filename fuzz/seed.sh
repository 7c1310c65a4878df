#!/usr/bin/env bash
# Seeds the fuzz corpora from the test data (seeds.py: one host, or a header
# and a few lines, per seed), then runs every target for SECONDS seconds each
# (default 600) and prints executions and findings per target.
# Set TARGETS to run only some (e.g. TARGETS="mmdb passive_filter").
#
#   fuzz/seed.sh [SECONDS]        (needs: rustup nightly, cargo install cargo-fuzz)
set -euo pipefail
cd "$(dirname "$0")"
data=../tests/data
seconds=${1:-600}
python3 seeds.py "$data" corpus
mkdir -p corpus/filter_values
for v in '/^a.*b$/i' 'a,b|c' - '10.0.0.0/8' 'tcp/80' '1d' '2024-01-01 10:00' 'http:Apache httpd:80' \
    'http-title:/admin/i' 'cpe:/a:apache:http_server:2.4' 'server:/nginx/' 'passwd'; do
    printf '%s' "$v" >"corpus/filter_values/$(printf '%s' "$v" | md5sum | cut -c1-12)"
done
for target in ${TARGETS:-scan_input zeek p0f airodump filter_values mmdb passive_filter}; do
    log=$(mktemp)
    cargo +nightly fuzz run "$target" -- -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
        -timeout=30 >"$log" 2>&1 || true
    runs=$(grep -oE 'Done [0-9]+ runs' "$log" | grep -oE '[0-9]+' || echo "?")
    crashes=$(ls "artifacts/$target" 2>/dev/null | wc -l)
    echo "$target: $runs executions in ${seconds}s, $crashes finding(s)"
    rm -f "$log"
done
