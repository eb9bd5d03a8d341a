#!/usr/bin/env bash
# Regenerates the built-in demo flow's prompts (8 kHz A-law WAV) in firmware/daemon/prompts/.
# espeak-ng (GPL) runs here as a separate program to make audio files; it is never linked
# into the firmware. The committed WAVs are what the daemon ships; re-run after editing texts.
set -euo pipefail
out="$(cd "$(dirname "$0")/.." && pwd)/firmware/daemon/prompts"
mkdir -p "$out"
say() { # name text
  local tmp; tmp=$(mktemp --suffix=.wav)
  espeak-ng -v en-us -s 150 -w "$tmp" "$2"
  sox "$tmp" -r 8000 -c 1 -e a-law -b 8 "$out/$1.wav" norm -3
  rm -f "$tmp"
}
say greeting "Welcome to Ying da. Please enter some digits, then press the hash key."
say you_entered "You entered"
say no_input "We did not receive any digits."
say goodbye "Thank you for calling. Goodbye."
names=(zero one two three four five six seven eight nine)
for d in 0 1 2 3 4 5 6 7 8 9; do say "digit_$d" "${names[$d]}"; done
say digit_star "star"
say digit_hash "hash"
for l in A B C D; do say "digit_$l" "$l"; done
ls -la "$out"
