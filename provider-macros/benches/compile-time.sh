#!/usr/bin/env bash
# Compile time of a crate whose whole source is one `generate!` of the 102-function round-trip
# fixture (provider-sdk/tests/roundtrip/wit), against the same crate using wit-bindgen-wrpc
# 0.11's `generate!`, in the same run. Dependencies are built once first; each measurement
# rebuilds only the crate (its source touched), in the dev profile.
#
#   bash provider-macros/benches/compile-time.sh        # RUNS=5 by default
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
fixture="$root/provider-sdk/tests/roundtrip/wit"
runs=${RUNS:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat > "$work/Cargo.toml" <<TOML
[workspace]
resolver = "3"
members = ["ours", "peer"]
TOML
cp "$root/Cargo.lock" "$work/Cargo.lock"

mkdir -p "$work/ours/src" "$work/peer/src"
cat > "$work/ours/Cargo.toml" <<TOML
[package]
name = "ours"
version = "0.0.0"
edition = "2024"
[dependencies]
provider-sdk = { path = "$root/provider-sdk" }
TOML
echo "provider_sdk::generate!({ path: \"$fixture\" });" > "$work/ours/src/lib.rs"

cat > "$work/peer/Cargo.toml" <<TOML
[package]
name = "peer"
version = "0.0.0"
edition = "2024"
[dependencies]
wit-bindgen-wrpc = "0.11"
TOML
echo "wit_bindgen_wrpc::generate!({ path: \"$fixture\" });" > "$work/peer/src/lib.rs"

cd "$work"
export CARGO_TARGET_DIR="$work/target"
cargo build --quiet -p ours -p peer 2>/dev/null

measure() {
  local crate=$1 total=0 start end
  for _ in $(seq "$runs"); do
    touch "$crate/src/lib.rs"
    start=$(date +%s.%N)
    cargo build --quiet -p "$crate" 2>/dev/null
    end=$(date +%s.%N)
    total=$(echo "$total + $end - $start" | bc -l)
  done
  echo "scale=3; $total / $runs" | bc -l
}

ours=$(measure ours)
peer=$(measure peer)
printf '%-24s %8s s\n' "provider-sdk generate!" "$ours" "wit-bindgen-wrpc" "$peer"
printf 'ratio provider-sdk / wit-bindgen-wrpc: %s\n' "$(echo "scale=2; $ours / $peer" | bc -l)"
