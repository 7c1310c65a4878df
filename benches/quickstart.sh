#!/usr/bin/env bash
# The README's quick start, build part, on fresh clones: this tree's commands
# (`cargo build --release`, then `cargo test --release --no-run`) against a
# baseline revision's (default: before the shared profile, `cargo build
# --release` then `cargo test --no-run`), back to back in the same run, each
# with an empty target directory. Prints wall and CPU seconds, the crates each
# step compiled and the size of target/.
#   benches/quickstart.sh [BASE_REV [BASE_TEST_CMD]]
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
BASE=${1:-0d44710}
BASE_TEST=${2:-"cargo test --no-run"}
THIS=$(git -C "$REPO" rev-parse HEAD)
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

step() { # label dir cmd...
    local label=$1 dir=$2; shift 2
    local log="$WORK/$label.log" t
    t=$( { cd "$dir" && /usr/bin/time -f '%e %U %S' "$@" >"$log" 2>&1; } 2>&1 | tail -1)
    read -r wall user sys <<<"$t"
    printf '%-28s wall %7.0fs  cpu %7.0fs  crates %4d  target %s  load %s\n' \
        "$label" "$wall" "$(echo "$user + $sys" | bc)" "$(grep -c ' Compiling ' "$log")" \
        "$(du -sh "$dir/target" | cut -f1)" "$(cut -d' ' -f1-3 /proc/loadavg)"
}

for rev in "$BASE" "$THIS"; do
    dir="$WORK/$rev"
    git clone -q "$REPO" "$dir" && git -C "$dir" checkout -q "$rev"
done
export CARGO_TARGET_DIR=
step "base: cargo build --release" "$WORK/$BASE" env CARGO_TARGET_DIR="$WORK/$BASE/target" cargo build --release
# shellcheck disable=SC2086
step "base: $BASE_TEST" "$WORK/$BASE" env CARGO_TARGET_DIR="$WORK/$BASE/target" $BASE_TEST
step "this: cargo build --release" "$WORK/$THIS" env CARGO_TARGET_DIR="$WORK/$THIS/target" cargo build --release
step "this: cargo test --release --no-run" "$WORK/$THIS" env CARGO_TARGET_DIR="$WORK/$THIS/target" cargo test --release --no-run
