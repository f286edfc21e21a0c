#!/usr/bin/env bash
# Builds Starling (release) and starts it with the shipped configuration,
# listening on 127.0.0.1:1883. Extra arguments go to the broker (e.g. -v, -p 1884).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target starling
exec build/starling -c starling.conf "$@"
