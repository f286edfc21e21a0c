#!/usr/bin/env bash
# Installs the Debian packages Starling needs, only those missing.
#   scripts/deps.sh build   compiler and CMake
#   scripts/deps.sh test    plus clang/libFuzzer runtime, mosquitto (for interop
#                           and benchmarks), paho-mqtt and pytest
set -euo pipefail
want=(gcc make cmake libssl-dev)
if [ "${1:-build}" = test ]; then
  want+=(clang clang-format libclang-rt-14-dev mosquitto mosquitto-clients python3-paho-mqtt python3-pytest)
fi
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
