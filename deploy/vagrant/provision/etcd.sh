#!/usr/bin/env bash
# etcd.sh: one member of the optional external three-member etcd cluster
# (Debian's etcd-server, installed by common.sh). Clients and peers talk
# TLS with certificates of the etcd CA (`minik8s certs init --etcd-names`,
# run on the host by the Vagrantfile), and only its clients get in: a
# cluster certificate (a node's, say) does not open etcd.
set -euo pipefail
dir=$(dirname "$0")
PKI=${PKI:-/minik8s/deploy/vagrant/.pki}
"$dir/units.sh" etcd /usr/bin/etcd --name "$NAME" --data-dir /var/lib/minik8s/etcd-member \
  --listen-client-urls "https://$IP:2379,https://127.0.0.1:2379" --advertise-client-urls "https://$IP:2379" \
  --listen-peer-urls "https://$IP:2380" --initial-advertise-peer-urls "https://$IP:2380" \
  --initial-cluster "$ETCD_CLUSTER" --initial-cluster-state new \
  --cert-file "$PKI/etcd-server.crt" --key-file "$PKI/etcd-server.key" \
  --trusted-ca-file "$PKI/etcd-ca.crt" --client-cert-auth \
  --peer-cert-file "$PKI/etcd-server.crt" --peer-key-file "$PKI/etcd-server.key" \
  --peer-trusted-ca-file "$PKI/etcd-ca.crt" --peer-client-cert-auth
