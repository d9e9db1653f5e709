#!/usr/bin/env bash
# Debian packages the tests need beyond Python: the PC/SC stack (pcscd, vsmartcard's vpcd,
# pcsclite headers for pyscard) and Chromium for the browser tests. Idempotent; needs root.
set -euo pipefail

# fonts-noto-cjk: the zh-TW pages render in screenshots instead of empty boxes.
PACKAGES=(pcscd vsmartcard-vpcd libpcsclite-dev swig gcc pkg-config chromium fonts-noto-cjk)
# axe-core for the accessibility checks comes from npm: Debian's node unless one is installed.
command -v npm >/dev/null || PACKAGES+=(nodejs npm)

missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${missing[*]} (run this script as root)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
