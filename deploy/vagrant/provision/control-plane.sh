#!/usr/bin/env bash
# control-plane.sh: certificates, then the API server (TLS on the private
# network: plain HTTP is for loopback only), controller-manager and
# scheduler, each with its own kubeconfig.
#
# Each component is started by $RUN NAME COMMAND...: in a VM that is
# units.sh (a systemd unit). The local lab (deploy/lab/lab.sh) runs this
# same script with RUN starting the processes in its control plane's
# network namespace, so CI exercises these command lines.
#
# Environment: CP_IP (the API server's address), NODES (name:ip,...);
# optional: PKI, DATA (/var/lib/minik8s), BIN (/usr/local/bin), AUDIT_LOG,
# ADMIN_KUBECONFIG (where the admin's kubeconfig is copied; empty: nowhere),
# EXTERNAL_ETCD and ETCD_CLUSTER, CM_FLAGS (extra controller-manager flags,
# split on spaces).
set -euo pipefail
dir=$(cd "$(dirname "$0")" && pwd)
RUN=${RUN:-$dir/units.sh}
PKI=${PKI:-/minik8s/deploy/vagrant/.pki} # the workers see it through the synced folder
DATA=${DATA:-/var/lib/minik8s}
BIN=${BIN:-/usr/local/bin}
AUDIT_LOG=${AUDIT_LOG:-/var/log/minik8s-audit.log}
ADMIN_KUBECONFIG=${ADMIN_KUBECONFIG-/root/.kube/config}
node_names=$(echo "$NODES" | tr , '\n' | cut -d: -f1 | paste -sd,)
"$BIN/minik8s" certs init --dir "$PKI" --apiserver-names "cp,$CP_IP" --nodes "$node_names" --server "https://$CP_IP:6443" >/dev/null
etcd=()
if [ -n "${EXTERNAL_ETCD:-}" ]; then
  etcd=(--etcd-servers "$(echo "$ETCD_CLUSTER" | sed -E 's/[^=,]+=//g; s/:2380/:2379/g')"
    --etcd-cafile "$PKI/etcd-ca.crt" --etcd-certfile "$PKI/apiserver-etcd-client.crt" --etcd-keyfile "$PKI/apiserver-etcd-client.key")
fi
"$RUN" apiserver "$BIN/apiserver" --listen "$CP_IP:6443" --data-dir "$DATA/etcd" "${etcd[@]}" \
  --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" --client-ca-file "$PKI/ca.crt" \
  --service-account-signing-key-file "$PKI/sa.key" --service-account-key-file "$PKI/sa.pub" \
  --authorization-mode Node,RBAC --audit-log-path "$AUDIT_LOG" \
  --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
  --kubelet-certificate-authority "$PKI/ca.crt"
# shellcheck disable=SC2086 # CM_FLAGS is a list of flags
"$RUN" controller-manager "$BIN/controller-manager" --kubeconfig "$PKI/kube-controller-manager.kubeconfig" --listen "" \
  --cluster-cidr 10.244.0.0/16 ${CM_FLAGS:-}
"$RUN" scheduler "$BIN/scheduler" --kubeconfig "$PKI/kube-scheduler.kubeconfig" --listen "" --score least-allocated
if [ -n "$ADMIN_KUBECONFIG" ]; then
  install -d "$(dirname "$ADMIN_KUBECONFIG")" && cp "$PKI/admin.kubeconfig" "$ADMIN_KUBECONFIG"
fi
