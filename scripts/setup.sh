#!/usr/bin/env bash
# Installs what building and testing raspc needs on Debian 12 (as root, or with sudo), then
# configures and builds into build/. Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++ cmake ninja-build pkg-config default-jre-headless uuid-dev antlr4
          libantlr4-runtime-dev libprotobuf-dev protobuf-compiler libonnx-dev python3-onnx
          libcli11-dev doctest-dev nlohmann-json3-dev graphviz)
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "setup: installing ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# onnxruntime for the cross-checks, from the committed lockfile (its GPU download is skipped).
if [ ! -d node_modules/onnxruntime-node ]; then
    echo "setup: installing onnxruntime-node from package-lock.json" >&2
    ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error
fi

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
