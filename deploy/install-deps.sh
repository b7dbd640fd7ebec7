#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian 12 packages Meridian needs (clang builds the XDP program, libxdp and
# libbpf load it and run the AF_XDP sockets). `--test` adds what the test suite uses:
# knotd (reference server), BIND 9 (transfer interop), dig/kdig, dnspython, fstrm_capture and
# dnstap-ldns (dnstap logs), promtool (prometheus) and headless chromium for the metrics and
# status page tests, libFuzzer's runtime, and for the fresh-root test (tests/fresh)
# mmdebstrap, lintian and git.
set -euo pipefail

build=(build-essential cmake pkg-config libev-dev libldns-dev libmaxminddb-dev libyaml-dev
       liburcu-dev libcurl4-openssl-dev libssl-dev libsodium-dev libfstrm-dev libprotobuf-c-dev
       protobuf-c-compiler libmicrohttpd-dev libxdp-dev libbpf-dev clang)
test=(libcmocka-dev knot knot-dnsutils dnsutils ldnsutils python3 python3-dnspython python3-yaml
      python3-cryptography unbound dnsviz bind9 bind9-utils fstrm-bin dnstap-ldns prometheus
      chromium
      libclang-rt-14-dev llvm bird2 iproute2 openssl mmdebstrap lintian git)

pkgs=("${build[@]}")
if [ "${1:-}" = "--test" ]; then
    pkgs+=("${test[@]}")
fi

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all packages present"
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# The tests run their own unbound (a validating resolver on loopback, tests/e2e). The
# package's service would fetch the root trust anchor from the internet at start: keep it off.
if [[ " ${missing[*]} " == *" unbound "* ]] && command -v systemctl >/dev/null; then
    $SUDO systemctl mask unbound.service unbound-resolvconf.service >/dev/null 2>&1 || true
fi
# Likewise named (tests/e2e/019 runs its own on loopback): the package's service would start a
# recursive resolver that talks to the root servers.
if [[ " ${missing[*]} " == *" bind9 "* ]] && command -v systemctl >/dev/null; then
    $SUDO systemctl mask named.service >/dev/null 2>&1 || true
fi
# prometheus is installed for promtool only (tests/e2e/025-metrics): its server and the node
# exporter it recommends would start scraping and listening at once. Keep them off.
if [[ " ${missing[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null; then
    $SUDO systemctl mask prometheus.service prometheus-node-exporter.service >/dev/null 2>&1 || true
fi
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
