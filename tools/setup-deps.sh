#!/usr/bin/env bash
# Installs every system package the build and the test suite need.
# Idempotent: re-running it on a machine that already has them changes nothing.
# Debian bookworm; run as root (CI runs as root) or with sudo available.
set -euo pipefail

PACKAGES=(
  build-essential pkg-config
  # peers and signal sources for DSP tests (spandsp: DTMF, caller ID, tones, G.711)
  libspandsp-dev
  # test speech for DTMF talk-off and, later, ASR
  espeak-ng sox
  # DAHDI kernel headers (dahdi/user.h) checked against our ioctl numbers; China tone zone
  dahdi-source libtonezone-dev
  # ALSA back-end: alsa-lib headers and its null/file plugins
  libasound2-dev alsa-utils
)

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
echo "setup-deps: ok"
