#!/bin/bash
# Installs the dependencies (apt-get) and builds podmesh into build/.
# usage: scripts/build.sh [BUILD_DIR [extra cmake args...]]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$top/build}
shift || true
bash "$top/.ci/deps"
cmake -S "$top" -B "$dir" "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
