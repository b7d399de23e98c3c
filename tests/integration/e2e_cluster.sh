#!/bin/bash
#
# The README's main job, end to end (issue #8): a Calico-style cluster with
# a route reflector, in network namespaces, pods from the real CNI plugin.
#
#   etcd            on the underlay (192.0.2.254)
#   n1 n2 n3        192.0.2.11-13: podmesh-node + podmesh-bgpd (datastore
#                   mode, kernel sync), 2 pods each
#   b4              192.0.2.14: BIRD 2 on the config podmesh-confd renders
#                   from the shipped BIRD 2 templates; podmesh-node
#                   registers it as calico/node would; 2 pods
#   rr1             198.51.100.11, behind a router: a dedicated route
#                   reflector (podmesh-node + podmesh-bgpd without a kernel
#                   sync: it forwards no pod traffic; Node labelled
#                   route-reflector=true, routeReflectorClusterID
#                   244.0.0.1), no pods
#
# Calico's reflector setup: the node-to-node mesh off, one BGPPeer
# {nodeSelector: !has(route-reflector), peerSelector: has(route-reflector)}:
# every node's only session crosses the router to rr1 (iBGP multihop).  The
# pool 198.18.0.0/16 has ipipMode Never and vxlanMode Never, so pod traffic
# is routed natively: correct here because every node with pods is on
# 192.0.2.0/24 (BIRD's shipped templates leave VXLAN routes to Felix, which
# podmesh does not include, and this kernel has no ipip module; IPIP has
# its own VM test).  Pods get their addresses and wiring from the podmesh
# CNI plugin and podmesh-ipam, run by podmesh-cnitool as a runtime would.
#
# Shown: every node's BGP sessions (podmeshctl node status; --bird on b4), its pod routes
# in the kernel (proto 44 from podmesh-bgpd, proto bird from BIRD),
# podmesh-bgpd's readiness endpoint where it answers, and the 8x8 pod ping
# matrix.  Exits non-zero if any pod cannot reach another, or any step
# fails.  Everything it creates is removed when it ends.  ~8 s.
PM_TIMEOUT=${PM_TIMEOUT:-180}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/e2e_lib.sh"

e2e_up
e2e_show
bad=0
e2e_matrix || bad=$?
[ "$bad" = 0 ] || fail "$bad pod pair(s) cannot reach each other"
echo
echo "every pod reaches every other pod, through rr1's reflected routes"
e2e_down
exit 0
