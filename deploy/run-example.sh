#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the build dependencies, builds meridiand (Release) and runs it in the foreground
# on 127.0.0.1:5353 and [::1]:5353 with the example config and zones.
set -euo pipefail
cd "$(dirname "$0")/.."
./deploy/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target meridiand meridianctl
./build/src/meridiand -n -c zones/meridian.yaml
# The hints run as printed (copy and paste) from the repository root, where this script runs;
# tests/e2e/010-readme runs each of them.
echo
echo "Try (from $(pwd)):"
echo "      dig @127.0.0.1 -p 5353 www.example.com A +norec"
echo "      dig @::1 -p 5353 example.com MX +nsid +norec"
echo "      dig @127.0.0.1 -p 5353 geo.example.com A +subnet=10.2.0.0/24 +norec   # steered by GeoIP"
echo "      ./build/src/meridiand -c zones/meridian.yaml -q 10.2.0.0/24 geo.example.com A"
echo "      ./build/src/meridianctl -s zones/meridian.sock status"
echo "      ./build/src/meridianctl -s zones/meridian.sock reload"
echo "Stop with Ctrl-C; reload with meridianctl reload (above) or: kill -HUP <pid>"
echo
exec ./build/src/meridiand -c zones/meridian.yaml
