#!/usr/bin/env bash
# Fresh machine to running appliance: installs every system package the build and tests need
# (idempotent), builds the daemon, and runs it on its simulated card with the built-in demo
# flow (firmware/daemon/config/sim-demo.toml). Ctrl-C stops it after calls finish.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup-deps.sh
cargo build --release --locked -p yingda
exec target/release/yingda --config "${1:-firmware/daemon/config/sim-demo.toml}"
