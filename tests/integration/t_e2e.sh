#!/bin/bash
# t_e2e.sh: the README's main job must keep working: runs e2e_cluster.sh
# (etcd; n1-n3 with podmesh-node and podmesh-bgpd, b4 with BIRD 2 and
# podmesh-confd, all clients of the route reflector rr1 behind a router;
# 8 pods from the CNI plugin) and passes only if every pod reaches every
# other and every podmesh-bgpd exits cleanly.  ~8 s.
exec bash "$(dirname "$0")/e2e_cluster.sh"
