#!/bin/bash
# Installs what podmesh needs, builds it, and runs its main job end to end
# in network namespaces (tests/integration/e2e_cluster.sh): a local etcd;
# three nodes running podmesh-node and podmesh-bgpd in datastore mode and a
# fourth running BIRD 2 on the config podmesh-confd renders, all peering
# with a dedicated route reflector (podmesh-bgpd) behind a router on a
# second subnet, as Calico's BGPPeer selectors configure it; two pods per
# node from the podmesh CNI plugin and podmesh-ipam.  It prints each node's
# BGP sessions and pod routes and a pod-to-pod ping matrix, and exits
# non-zero if any pod cannot reach another.  Everything it creates
# (namespaces, processes, temp files) is removed when it ends.
#   scripts/demo.sh crosssubnet   the older demo: four nodes in full mesh,
#                                 VXLAN CrossSubnet, a pod per node from
#                                 IPAM (demo_cluster.sh)
#   scripts/demo.sh vxlan         the same over VXLAN everywhere
#   scripts/demo.sh bird          podmesh-bgpd and BIRD 2 over eBGP
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
demo=e2e_cluster.sh
case ${1:-} in
"") ;;
crosssubnet | vxlan)
	demo=demo_cluster.sh
	export DEMO_MODE=$1
	;;
bird) demo=demo_bird.sh ;;
*)
	echo "usage: $0 [crosssubnet|vxlan|bird]" >&2
	exit 2
	;;
esac
bash "$top/.ci/deps"
bash "$top/scripts/build.sh" "$top/build"
PODMESH_BUILD="$top/build" PODMESH_SRC="$top" \
	exec bash "$top/tests/integration/$demo"
