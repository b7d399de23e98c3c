#!/bin/bash
#
# The relay benchmark in its quick form (100k prefixes through podmesh-bgpd
# and through BIRD 2), so bench/ cannot rot: fails unless every DUT delivers
# every prefix with the expected next hop and AS_PATH.
set -euo pipefail
src=${PODMESH_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
exec timeout -k 10 120 bash "$src/bench/relay.sh" --quick
