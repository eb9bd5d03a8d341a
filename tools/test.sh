#!/usr/bin/env bash
# The whole test suite: installs what the tests need (idempotent), checks formatting and
# lints, then runs every test of the workspace. `.ci/run` calls this.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup-deps.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
if command -v cargo-nextest >/dev/null 2>&1; then
  # nextest does not run doctests; run them first so nextest's summary closes the log.
  cargo test --workspace --locked --doc
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast
fi
