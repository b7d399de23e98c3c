#!/bin/bash
# Installs what podmesh needs, builds it, and runs podmesh-bgpd against BIRD 2
# in two network namespaces, printing the routes each side learnt.  Everything
# it creates (namespaces, processes, temp files) is removed when it ends.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bash "$top/scripts/build.sh" "$top/build"
PODMESH_BUILD="$top/build" PODMESH_SRC="$top" \
	exec bash "$top/tests/integration/demo_bird.sh"
