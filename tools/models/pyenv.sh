#!/bin/sh
# Create (or bring up to date) the Python environment of the build-time model tools and
# print its python path. Idempotent: does nothing when requirements.txt is unchanged since
# the last successful install.
#   PY=$(tools/models/pyenv.sh)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
env=${YINGDA_PYENV:-$repo/target/pyenv}
req=$here/requirements.txt
stamp=$env/.requirements.sha256
want=$(sha256sum "$req" | cut -d' ' -f1)
# Tests run in parallel and each may call this: one installs, the others wait for it.
mkdir -p "$(dirname "$env")"
exec 9>"$env.lock"
flock 9
if [ ! -x "$env/bin/python" ]; then
    python3 -m venv "$env" >&2
fi
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
    "$env/bin/pip" install --quiet --disable-pip-version-check -r "$req" >&2
    echo "$want" > "$stamp"
fi
echo "$env/bin/python"
