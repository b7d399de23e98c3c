#!/bin/bash
# t_demo.sh: the README's first command must keep working: runs its demo
# (demo_cluster.sh: four nodes in two subnets, VXLAN CrossSubnet, a pod per
# node) and passes only if every pod reaches every other.  ~12 s.
exec bash "$(dirname "$0")/demo_cluster.sh"
