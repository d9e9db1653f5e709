#!/usr/bin/env bash
# Debian packages the tests need beyond Python: the PC/SC stack (pcscd, vsmartcard's vpcd,
# pcsclite headers for pyscard), Chromium and fonts for the browser tests, PostgreSQL for the
# storage tests on it (the tests use the server on CARDREG_TEST_POSTGRES_URL when one answers,
# else start a throwaway cluster of this one: cardreg_testkit.postgres). Idempotent; needs root.
set -euo pipefail

# Fonts, so that every language renders in the screenshots instead of empty boxes or broken
# marks: fonts-noto-cjk (zh-TW), fonts-noto-core (Latin with Vietnamese's stacked diacritics,
# Noto Sans Thai), fonts-thai-tlwg (Thai, Debian's default Thai faces).
# podman, runc, debootstrap: the deploy tier boots deploy/compose.yaml without a Docker engine
# (rootful podman with podman-compose from the dev group; a base image from Debian's packages).
PACKAGES=(pcscd vsmartcard-vpcd libpcsclite-dev swig gcc pkg-config chromium
  fonts-noto-cjk fonts-noto-core fonts-thai-tlwg postgresql
  podman runc debootstrap)
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
