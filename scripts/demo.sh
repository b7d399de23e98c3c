#!/bin/bash
# Installs what podmesh needs, builds it, and runs its main job on a small
# built-in example: a local etcd and four nodes in network namespaces (two
# subnets joined by a router), each running podmesh-node and podmesh-bgpd in
# datastore mode, one pod per node with an address from Calico's IPAM.  It
# prints each node's BGP sessions and kernel routes and a pod-to-pod ping
# matrix, and exits non-zero if any pod cannot reach another.  Everything it
# creates (namespaces, processes, temp files) is removed when it ends.
#   DEMO_MODE=vxlan scripts/demo.sh     the same over VXLAN
#   scripts/demo.sh bird                the older demo: podmesh-bgpd and BIRD 2
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bash "$top/.ci/deps"
bash "$top/scripts/build.sh" "$top/build"
demo=demo_cluster.sh
[ "${1:-}" = bird ] && demo=demo_bird.sh
PODMESH_BUILD="$top/build" PODMESH_SRC="$top" \
	exec bash "$top/tests/integration/$demo"
