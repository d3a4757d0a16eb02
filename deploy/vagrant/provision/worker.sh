#!/usr/bin/env bash
# worker.sh: containerd (Debian's, as a system service), then the node
# agent and the proxy with this node's credentials; the agent keeps the
# routes to the other nodes' pod CIDRs (host-gateway networking over the
# private network).
set -euo pipefail
dir=$(dirname "$0")
pki=/minik8s/deploy/vagrant/.pki
systemctl enable --now containerd
"$dir/units.sh" nodeagent /usr/local/bin/nodeagent --kubeconfig "$pki/node-$NAME.kubeconfig" --node-name "$NAME" \
  --node-ip "$IP" --containerd-address /run/containerd/containerd.sock --cluster-cidr 10.244.0.0/16 \
  --cluster-dns "$IP" --listen "$IP:10250"
"$dir/units.sh" proxy /usr/local/bin/proxy --kubeconfig "$pki/kube-proxy.kubeconfig" --node-name "$NAME" \
  --cluster-cidr 10.244.0.0/16 --dns-listen "$IP:53" --listen ""
