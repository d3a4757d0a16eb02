#!/usr/bin/env bash
# etcd.sh: one member of the optional external three-member etcd cluster
# (Debian's etcd-server, installed by common.sh).
set -euo pipefail
dir=$(dirname "$0")
"$dir/units.sh" etcd /usr/bin/etcd --name "$NAME" --data-dir /var/lib/minik8s/etcd-member \
  --listen-client-urls "http://$IP:2379,http://127.0.0.1:2379" --advertise-client-urls "http://$IP:2379" \
  --listen-peer-urls "http://$IP:2380" --initial-advertise-peer-urls "http://$IP:2380" \
  --initial-cluster "$ETCD_CLUSTER" --initial-cluster-state new
