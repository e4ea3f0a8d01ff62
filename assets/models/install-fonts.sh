#!/bin/sh
# Install exactly the fonts that `python -m nn.train --fonts auto` trains on (Debian 12), at
# the versions pinned in fonts.txt beside this script. With --held-out, also the font
# families of the held-out test sets (benchmarks/bench_styles.py, benchmarks/bench_world.py),
# which training never uses. Run as root (or with sudo).
set -eu
here=$(dirname "$0")
packages=$(sed -n 's/^package \([^ ]*\) \(.*\)$/\1=\2/p' "$here/fonts.txt")
if [ "${1:-}" = "--held-out" ]; then
    packages="$packages fonts-averia-gwf fonts-averia-sans-gwf fonts-averia-serif-gwf fonts-breip
    fonts-fanwood fonts-gfs-didot fonts-isabella fonts-junicode fonts-kristi fonts-lobster
    fonts-manrope fonts-mplus fonts-okolaks fonts-prociono"
fi
apt-get update
# shellcheck disable=SC2086  # one word per package
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $packages
