#!/usr/bin/env bash
# control-plane.sh: certificates, then the API server (TLS on the private
# network: plain HTTP is for loopback only), controller-manager and
# scheduler, each as a systemd unit with its kubeconfig.
set -euo pipefail
dir=$(dirname "$0")
pki=/minik8s/deploy/vagrant/.pki   # shared with the workers through the synced folder
node_names=$(echo "$NODES" | tr , '\n' | cut -d: -f1 | paste -sd,)
minik8s certs init --dir "$pki" --apiserver-names "cp,$CP_IP" --nodes "$node_names" --server "https://$CP_IP:6443"
etcd=()
if [ -n "$EXTERNAL_ETCD" ]; then
  etcd=(--etcd-servers "$(echo "$ETCD_CLUSTER" | sed -E 's/[^=,]+=//g; s/:2380/:2379/g')")
fi
"$dir/units.sh" apiserver /usr/local/bin/apiserver --listen "$CP_IP:6443" --data-dir /var/lib/minik8s/etcd "${etcd[@]}" \
  --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" --client-ca-file "$pki/ca.crt" \
  --service-account-signing-key-file "$pki/sa.key" --service-account-key-file "$pki/sa.pub" \
  --authorization-mode Node,RBAC --audit-log-path /var/log/minik8s-audit.log \
  --kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" --kubelet-client-key "$pki/apiserver-kubelet-client.key" \
  --kubelet-certificate-authority "$pki/ca.crt"
"$dir/units.sh" controller-manager /usr/local/bin/controller-manager --kubeconfig "$pki/kube-controller-manager.kubeconfig" --listen ""
"$dir/units.sh" scheduler /usr/local/bin/scheduler --kubeconfig "$pki/kube-scheduler.kubeconfig" --listen "" --score least-allocated
install -d /root/.kube && cp "$pki/admin.kubeconfig" /root/.kube/config
