#!/usr/bin/env bash
# common.sh: what every VM needs. The Debian packages come from the same
# script CI runs (hack/install-deps.sh), so CI keeps it working; the
# binaries come from the host's build in the synced repository.
set -euo pipefail
cd /minik8s
./hack/install-deps.sh
install -m 0755 bin/apiserver bin/controller-manager bin/scheduler bin/nodeagent bin/proxy bin/minik8s /usr/local/bin/
mkdir -p /var/lib/minik8s
# Every VM resolves the others by name.
grep -q " cp$" /etc/hosts || echo "$CP_IP cp" >> /etc/hosts
IFS=, read -ra nodes <<< "$NODES"
for n in "${nodes[@]}"; do
  grep -q " ${n%%:*}$" /etc/hosts || echo "${n##*:} ${n%%:*}" >> /etc/hosts
done
