#!/usr/bin/env bash
# worker.sh: containerd (Debian's, as a system service), then the node
# agent and the proxy with this node's credentials; the agent keeps the
# routes to the other nodes' pod CIDRs (host-gateway networking over the
# private network).
#
# As in control-plane.sh, $RUN NAME COMMAND... starts each component
# (default: a systemd unit); the local lab runs this same script for each
# of its nodes.
#
# Environment: NAME, IP (this node); optional: PKI, BIN (/usr/local/bin),
# CONTAINERD_ADDRESS (default: Debian's containerd, enabled here),
# NODE_KUBECONFIG and PROXY_KUBECONFIG (default: from PKI), AGENT_FLAGS and
# PROXY_FLAGS (extra flags, split on spaces).
set -euo pipefail
dir=$(cd "$(dirname "$0")" && pwd)
RUN=${RUN:-$dir/units.sh}
PKI=${PKI:-/minik8s/deploy/vagrant/.pki}
BIN=${BIN:-/usr/local/bin}
if [ -z "${CONTAINERD_ADDRESS:-}" ]; then
  systemctl enable --now containerd
  CONTAINERD_ADDRESS=/run/containerd/containerd.sock
fi
# shellcheck disable=SC2086 # AGENT_FLAGS and PROXY_FLAGS are lists of flags
"$RUN" nodeagent "$BIN/nodeagent" --kubeconfig "${NODE_KUBECONFIG:-$PKI/node-$NAME.kubeconfig}" --node-name "$NAME" \
  --node-ip "$IP" --containerd-address "$CONTAINERD_ADDRESS" --cluster-cidr 10.244.0.0/16 \
  --cluster-dns "$IP" --listen "$IP:10250" ${AGENT_FLAGS:-}
# shellcheck disable=SC2086
"$RUN" proxy "$BIN/proxy" --kubeconfig "${PROXY_KUBECONFIG:-$PKI/kube-proxy.kubeconfig}" --node-name "$NAME" \
  --cluster-cidr 10.244.0.0/16 --dns-listen "$IP:53" --listen "" ${PROXY_FLAGS:-}
