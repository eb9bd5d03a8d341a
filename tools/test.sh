#!/usr/bin/env bash
# The whole test suite: installs what the tests need (idempotent), checks formatting and
# lints, then runs every test of the workspace. `.ci/run` calls this.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup-deps.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
if command -v cargo-nextest >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
  # nextest does not run doctests.
  cargo test --workspace --locked --doc
else
  cargo test --workspace --locked --no-fail-fast
fi
