#!/usr/bin/env bash
# install-deps.sh installs the Debian packages minik8s' build and tests
# need, and only those that are missing (so a second run does nothing).
# Run as root on Debian 12. Go itself must already be on the PATH.
set -euo pipefail

# Packages the current test suite uses. Later parts of minik8s add theirs
# here (containerd, runc, CNI plugins, iptables, the local registry ...).
packages=(
  ca-certificates
  curl      # the e2e curl walkthrough
  kubectl   # the real client for compatibility tests
  iproute2  # network namespaces for the local lab
  etcd-server  # an external etcd for the store conformance suite
  iptables   # the proxy's rules (tests: inside their own network namespaces)
  conntrack  # the proxy clears stale UDP flows when an endpoint goes
  containerd                   # the node agent's container runtime (tests start their own)
  runc
  containernetworking-plugins  # CNI bridge, host-local, loopback, portmap in /usr/lib/cni
  busybox-static               # the base of the test images
  docker-registry              # a local registry for the test images (tests start their own)
  vagrant                      # validates the Vagrant lab's Vagrantfile (no VM is started)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Packages such as etcd-server would start a system-wide daemon; tests
  # start their own on free ports, so keep the package scripts from
  # starting services (unless the machine already has such a policy).
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all Debian packages present"
fi

if ! command -v go >/dev/null; then
  echo "install-deps: Go is not on the PATH; install Go 1.24 or newer (e.g. to /usr/local/go)" >&2
  exit 1
fi
