#!/bin/bash
#
# The route-reflector fan-out benchmark in its quick form (100 clients x 4
# prefixes through podmesh-bgpd, BIRD 2 and GoBGP in turn), so bench/
# cannot rot and a reflector that mangles routes is caught: fails unless
# every reflector delivers every client's prefixes to every other client,
# each with its owner's next hop and never a wrong one.  About 10 s when
# all converge (GoBGP takes 4-9 s of it); each reflector gets at most 20 s.
set -euo pipefail
src=${PODMESH_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
exec timeout -k 10 58 bash "$src/bench/fanout.sh" --quick
