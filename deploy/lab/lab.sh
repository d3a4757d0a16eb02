#!/usr/bin/env bash
# lab.sh: a multi-node minik8s cluster as network namespaces on one Linux
# machine (see deploy/lab/README.md).
#
#   lab.sh up   --dir DIR [--nodes N] [--id ID] [--bin BINDIR]
#   lab.sh down --dir DIR
#   lab.sh signal  --dir DIR NAME SIG         e.g. KILL, STOP, CONT (by the recorded PID)
#   lab.sh restart --dir DIR NAME [-- ARG...] kill -9 NAME if it runs, start it again
#                                             with its command line (plus ARGs)
#
# Layout for lab ID (1-254), all of it inside namespaces the lab creates:
#
#   mk-lab-ID-net      the lab's "switch": bridge br0, one veth port per member
#   mk-lab-ID-cp       control plane, 172.30.ID.2: apiserver (HTTPS on :6443 there),
#                      controller-manager, scheduler
#   mk-lab-ID-node-I   node-I, 172.30.ID.(10+I), pods 10.244.I.0/24: the node's
#                      network (pod bridge mk0, routes to the other nodes' pods,
#                      the proxy's nat rules, cluster DNS on 172.30.ID.(10+I):53)
#
# In the machine's own namespaces run only: one private containerd (its own
# root, state and socket under DIR; a containerd namespace per node), a
# registry with the test images on 127.0.0.1, the node agents and proxies
# (they enter their node's netns for everything network: CNI, probes, their
# listening sockets, iptables), and labforward, which accepts on 127.0.0.1
# and connects to the apiserver from inside mk-lab-ID-cp. Nothing in the
# machine's own network namespace changes: no interface, route or rule.
#
# The control plane and each node are provisioned by the Vagrant lab's own
# scripts (deploy/vagrant/provision/control-plane.sh and worker.sh), with
# RUN pointing at `lab.sh run` instead of systemd, so CI runs exactly those
# command lines. The lab is thus a secure cluster (docs/security.md):
# `minik8s certs init` makes DIR/pki (the CA, the API server's certificate,
# one client certificate and kubeconfig per component and node, the
# ServiceAccount key); the apiserver serves only HTTPS, authenticates
# everyone, authorizes by Node and RBAC, and audits to DIR/logs/audit.log.
#
# `up` writes DIR/kubeconfig (the admin's), DIR/lab.env (what `down` needs),
# DIR/pids ("PID NAME" per process started) and DIR/cmdline/NAME (its
# command line, for restart). `down` stops those processes by PID, removes
# the lab's containers, images and snapshots, unmounts everything under
# DIR, deletes the lab's namespaces (and with them every bridge, veth,
# route and iptables chain in them) and removes what `up` created in DIR.
set -euo pipefail

usage() {
	echo "usage: $0 up --dir DIR [--nodes N] [--id ID] [--bin BINDIR] [--node-monitor-grace-period D]" >&2
	echo "       $0 down --dir DIR" >&2
	echo "       $0 signal --dir DIR NAME SIG" >&2
	echo "       $0 restart --dir DIR NAME [-- ARG...]" >&2
	exit 2
}

die() {
	echo "lab: $*" >&2
	exit 1
}

log() { echo "lab: $*" >&2; }

CMD=${1:-}
[ -n "$CMD" ] || usage
shift
# lab.sh run --dir DIR [--netns NS] [--suffix S] NAME COMMAND...: how the
# provisioning scripts start a component in the lab (their $RUN): in the
# background, as NAME+S, inside NS. Used by up; not for people.
if [ "$CMD" = run ]; then
	RUN_NETNS= RUN_SUFFIX=
	while [ $# -gt 0 ]; do
		case $1 in
		--dir) DIR=$2; shift 2 ;;
		--netns) RUN_NETNS=$2; shift 2 ;;
		--suffix) RUN_SUFFIX=$2; shift 2 ;;
		*) break ;;
		esac
	done
	[ -n "${DIR:-}" ] && [ $# -ge 2 ] || usage
	name=$1$RUN_SUFFIX
	shift
	prefix=()
	[ -z "$RUN_NETNS" ] || prefix=(ip netns exec "$RUN_NETNS")
fi
DIR=${DIR:-} NODES=3 ID= BIN= GRACE=${LAB_NODE_MONITOR_GRACE_PERIOD:-40s}
ARGS=() EXTRA=()
while [ "$CMD" != run ] && [ $# -gt 0 ]; do
	case $1 in
	--dir) DIR=$2; shift 2 ;;
	--nodes) NODES=$2; shift 2 ;;
	--id) ID=$2; shift 2 ;;
	--bin) BIN=$2; shift 2 ;;
	--node-monitor-grace-period) GRACE=$2; shift 2 ;;
	--) shift; EXTRA=("$@"); break ;;
	-*) usage ;;
	*) ARGS+=("$1"); shift ;;
	esac
done
[ -n "$DIR" ] || usage
[ "$(id -u)" = 0 ] || die "must run as root (network namespaces, containerd, mounts)"

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CLUSTER_CIDR=10.244.0.0/16

# start NAME CMD...: runs CMD in the background, logging to DIR/logs/NAME.log,
# and records its PID in DIR/pids and its command line in DIR/cmdline/NAME.
start() {
	local name=$1
	shift
	mkdir -p "$DIR/cmdline"
	printf '%q ' "$@" >"$DIR/cmdline/$name"
	"$@" </dev/null >>"$DIR/logs/$name.log" 2>&1 &
	echo "$! $name" >>"$DIR/pids"
}

# wait_for WHAT SECONDS CMD...: retries CMD until it succeeds.
wait_for() {
	local what=$1 secs=$2
	shift 2
	local end=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $end ] || die "$what not ready after ${secs}s (logs in $DIR/logs)"
		sleep 0.2
	done
}

free_port() { "$BIN/labforward" --free-port; }

# attach NS IP: a veth from the lab bridge into NS (made inside the lab's
# namespaces directly: no interface ever appears in the host's), with IP.
attach() {
	local ns=$1 ip=$2 port=$3
	ip -n "$NET" link add "$port" type veth peer name eth0 netns "$ns"
	ip -n "$NET" link set "$port" master br0 up
	ip -n "$ns" link set lo up
	ip -n "$ns" addr add "$ip/24" dev eth0
	ip -n "$ns" link set eth0 up
}

up() {
	for b in ip containerd ctr docker-registry iptables; do
		command -v "$b" >/dev/null || die "$b is missing (hack/install-deps.sh installs it)"
	done
	[ -x /usr/lib/cni/bridge ] || die "CNI plugins missing in /usr/lib/cni (containernetworking-plugins)"
	[[ $NODES =~ ^[0-9]+$ ]] && [ "$NODES" -ge 1 ] && [ "$NODES" -le 200 ] || die "--nodes must be 1..200"
	mkdir -p "$DIR"
	DIR=$(cd "$DIR" && pwd)
	[ ! -e "$DIR/lab.env" ] || die "$DIR already holds a lab: run $0 down --dir $DIR first"
	if [ -z "$ID" ]; then
		for i in $(seq 1 254); do
			if ! ls /run/netns 2>/dev/null | grep -q "^mk-lab-$i-"; then ID=$i; break; fi
		done
	fi
	[[ $ID =~ ^[0-9]+$ ]] && [ "$ID" -ge 1 ] && [ "$ID" -le 254 ] || die "--id must be 1..254"
	if ls /run/netns 2>/dev/null | grep -q "^mk-lab-$ID-"; then die "lab $ID exists already"; fi
	NET=mk-lab-$ID-net CP=mk-lab-$ID-cp PREFIX=172.30.$ID
	SOCK=$DIR/containerd/c.sock
	[ ${#SOCK} -lt 100 ] || die "$DIR is too long a path for containerd's socket"
	mkdir -p "$DIR/logs" "$DIR/containerd" "$DIR/registry" "$DIR/nodes"
	: >"$DIR/pids"
	cat >"$DIR/lab.env" <<-EOF
		ID=$ID
		NODES=$NODES
		SOCK=$SOCK
	EOF
	# From here on a failure tears down what was made.
	trap 'rc=$?; if [ $rc -ne 0 ]; then log "up failed; tearing down"; "$0" down --dir "$DIR"; fi' EXIT

	if [ -z "$BIN" ]; then
		BIN=$DIR/bin
		log "building binaries into $BIN"
		(cd "$REPO" && go build -o "$BIN/" ./cmd/apiserver ./cmd/controller-manager ./cmd/scheduler \
			./cmd/nodeagent ./cmd/proxy ./cmd/minik8s ./hack/testimages ./hack/labforward)
	fi
	BIN=$(cd "$BIN" && pwd)
	echo "BIN=$BIN" >>"$DIR/lab.env"

	log "network: $NET (bridge), $CP, $NODES node namespaces on $PREFIX.0/24"
	ip netns add "$NET"
	ip -n "$NET" link set lo up
	ip -n "$NET" link add br0 type bridge
	ip -n "$NET" link set br0 up
	ip netns add "$CP"
	attach "$CP" "$PREFIX.2" veth-cp
	for i in $(seq 1 "$NODES"); do
		ns=mk-lab-$ID-node-$i
		ip netns add "$ns"
		attach "$ns" "$PREFIX.$((10 + i))" "veth-n$i"
		# The node routes its pods' traffic (sysctls in a netns are its own).
		ip netns exec "$ns" sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward'
	done

	log "containerd ($SOCK)"
	cat >"$DIR/containerd/config.toml" <<-EOF
		version = 2
		root = "$DIR/containerd/root"
		state = "$DIR/containerd/state"
		disabled_plugins = ["io.containerd.grpc.v1.cri"]
		[grpc]
		  address = "$SOCK"
		[ttrpc]
		  address = "$SOCK.ttrpc"
		[debug]
		  address = ""
		[metrics]
		  address = ""
	EOF
	start containerd containerd --config "$DIR/containerd/config.toml"
	wait_for containerd 30 ctr -a "$SOCK" version

	REG=127.0.0.1:$(free_port)
	log "registry $REG with the test images"
	printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n' \
		"$DIR/registry" "$REG" >"$DIR/registry/config.yml"
	start registry docker-registry serve "$DIR/registry/config.yml"
	wait_for registry 30 curl -sf "http://$REG/v2/"
	"$BIN/testimages" -push "$REG" >"$DIR/logs/testimages.log" 2>&1
	echo "REGISTRY=$REG" >>"$DIR/lab.env"

	PKI=$DIR/pki
	echo "PKI=$PKI" >>"$DIR/lab.env"
	# kubeconfig SRC URL DST: a copy of a kubeconfig from $PKI for another
	# address of the API server.
	kubeconfig() { sed "s#server: .*#server: $2#" "$PKI/$1.kubeconfig" >"$3" && chmod 600 "$3"; }
	# The Vagrant lab's provisioning scripts start the components, the
	# same command lines; $RUN starts them here, in a namespace.
	runner() {
		printf '#!/bin/sh\nexec %q run --dir %q %s "$@"\n' "$REPO/deploy/lab/lab.sh" "$DIR" "$2" >"$DIR/$1"
		chmod +x "$DIR/$1"
	}
	# The agents renew their Lease every quarter of its duration; the node
	# monitor grace period must leave room for a few missed renewals, as
	# Kubernetes' defaults do (40 s lease, 10 s renewals, 40 s grace).
	case $GRACE in
	*[0-9]s) LEASE=${GRACE%s} ;;
	*) LEASE=40 ;;
	esac
	NODELIST=$(for i in $(seq 1 "$NODES"); do printf 'node-%d:%s.%d,' "$i" "$PREFIX" $((10 + i)); done)
	NODELIST=${NODELIST%,}

	log "control plane in $CP: certificates in $PKI, deploy/vagrant/provision/control-plane.sh"
	runner run-cp "--netns $CP"
	RUN=$DIR/run-cp CP_IP=$PREFIX.2 NODES=$NODELIST PKI=$PKI DATA=$DIR BIN=$BIN \
		AUDIT_LOG=$DIR/logs/audit.log ADMIN_KUBECONFIG= \
		CM_FLAGS="--volume-dir $DIR/volumes --node-monitor-grace-period $GRACE" \
		"$REPO/deploy/vagrant/provision/control-plane.sh"
	FWD=127.0.0.1:$(free_port)
	start labforward "$BIN/labforward" --listen "$FWD" --netns "/run/netns/$CP" --to "$PREFIX.2:6443"
	echo "SERVER=https://$FWD" >>"$DIR/lab.env"
	kubeconfig admin "https://$FWD" "$DIR/kubeconfig"
	wait_for apiserver 60 curl -sf --cacert "$PKI/ca.crt" "https://$FWD/readyz"

	# Each node reaches the API server over the lab's network, as a real
	# node does: a forwarder per node connects from inside the node's
	# namespace to $PREFIX.2:6443. Cutting a node off (iptables in its
	# namespace) thus cuts its agent and proxy off too. TLS goes through
	# the forwarders untouched.
	for i in $(seq 1 "$NODES"); do
		ns=mk-lab-$ID-node-$i ip=$PREFIX.$((10 + i))
		log "node-$i in $ns ($ip, pods 10.244.$i.0/24)"
		NFWD=127.0.0.1:$(free_port)
		start "fwd-$i" "$BIN/labforward" --listen "$NFWD" --netns "/run/netns/$ns" --to "$PREFIX.2:6443"
		wait_for "node-$i's path to the apiserver" 30 curl -sf --cacert "$PKI/ca.crt" "https://$NFWD/readyz"
		kubeconfig "node-node-$i" "https://$NFWD" "$DIR/nodes/node-$i.kubeconfig" # certs names it node-NAME
		kubeconfig kube-proxy "https://$NFWD" "$DIR/nodes/proxy-$i.kubeconfig"
		runner "run-node-$i" "--suffix -$i"
		# DNS upstream 127.0.0.1:1 (nothing there): the lab has no way out,
		# names outside cluster.local fail fast instead of leaving the lab.
		RUN=$DIR/run-node-$i NAME=node-$i IP=$ip PKI=$PKI BIN=$BIN CONTAINERD_ADDRESS=$SOCK \
			NODE_KUBECONFIG=$DIR/nodes/node-$i.kubeconfig PROXY_KUBECONFIG=$DIR/nodes/proxy-$i.kubeconfig \
			AGENT_FLAGS="--containerd-namespace mk-lab-$ID-node-$i --root-dir $DIR/nodes/node-$i
				--node-netns /run/netns/$ns --pod-cidr 10.244.$i.0/24 --insecure-registry $REG --resync-period 5s
				--node-lease-duration-seconds $LEASE" \
			PROXY_FLAGS="--netns /run/netns/$ns --dns-upstream 127.0.0.1:1" \
			"$REPO/deploy/vagrant/provision/worker.sh"
	done

	wait_for "$NODES Ready nodes" 60 nodes_ready
	trap - EXIT
	log "lab $ID is up: export KUBECONFIG=$DIR/kubeconfig; the registry is $REG"
}

nodes_ready() {
	local n
	n=$(curl -sf --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" "https://$FWD/api/v1/nodes" |
		tr -d ' \n' | grep -o '"type":"Ready","status":"True"' | wc -l)
	[ "$n" -ge "$NODES" ]
}

# ours PID: the process is still one this lab started (guards against PID
# reuse): its command line mentions the lab's dir or binaries.
ours() {
	local cmdline
	cmdline=$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline") || return 1
	[[ $cmdline == *"$DIR"* || ( -n ${BIN:-} && $cmdline == *"$BIN"* ) ]]
}

# stop PID...: SIGTERM, up to 10 s, then SIGKILL; by PID only.
stop() {
	local pids=() p
	for p in "$@"; do
		if ours "$p"; then pids+=("$p"); kill -TERM "$p" 2>/dev/null || true; fi
	done
	local end=$((SECONDS + 10))
	for p in "${pids[@]}"; do
		while [ -d "/proc/$p" ] && [ $SECONDS -lt $end ]; do sleep 0.1; done
		if [ -d "/proc/$p" ]; then kill -KILL "$p" 2>/dev/null || true; fi
	done
}

down() {
	[ -d "$DIR" ] || return 0
	DIR=$(cd "$DIR" && pwd)
	[ -f "$DIR/lab.env" ] || { log "no lab in $DIR"; return 0; }
	# shellcheck disable=SC1091
	. "$DIR/lab.env"
	set +e
	# Everything but containerd first, newest first: proxies and agents,
	# then the control plane, the forwarder and the registry.
	local ctrd= pids=()
	if [ -f "$DIR/pids" ]; then
		while read -r pid name; do
			if [ "$name" = containerd ]; then ctrd=$pid; else pids=("$pid" "${pids[@]}"); fi
		done <"$DIR/pids"
	fi
	[ ${#pids[@]} -eq 0 ] || stop "${pids[@]}"

	# The lab's containers, images and snapshots, then containerd itself.
	if [ -n "$ctrd" ] && ours "$ctrd" && ctr -a "$SOCK" version >/dev/null 2>&1; then
		local ns id
		for ns in $(ctr -a "$SOCK" namespaces ls -q | grep "^mk-lab-$ID-"); do
			local c="ctr -a $SOCK -n $ns"
			for id in $($c tasks ls -q); do
				$c tasks kill -s SIGKILL "$id" >/dev/null 2>&1
				$c tasks rm -f "$id" >/dev/null 2>&1
			done
			for id in $($c containers ls -q); do $c containers rm "$id" >/dev/null 2>&1; done
			for id in $($c images ls -q); do $c images rm --sync "$id" >/dev/null 2>&1; done
			for id in $($c snapshots ls | awk 'NR>1 {print $1}'); do $c snapshots rm "$id" >/dev/null 2>&1; done
			$c namespaces rm "$ns" >/dev/null 2>&1
		done
	fi
	[ -z "$ctrd" ] || stop "$ctrd"
	# Left-over shims of this lab (their command lines name the lab's
	# containerd socket), by PID.
	local p left=() cmdline
	for p in $(ls /proc | grep '^[0-9]*$'); do
		cmdline=$(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline") || continue
		[[ $cmdline == *containerd-shim*"$SOCK"* ]] && left+=("$p")
	done
	for p in "${left[@]}"; do kill -KILL "$p" 2>/dev/null; done

	# Mounts under DIR (pod netns bind mounts, rootfs), deepest first.
	local m
	for m in $(awk -v d="$DIR/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
		umount -l "$m" 2>/dev/null
	done
	# Deleting the namespaces deletes what is in them: the bridge, veths,
	# routes, iptables chains.
	for ns in $(ls /run/netns 2>/dev/null | grep "^mk-lab-$ID-"); do
		ip netns del "$ns"
	done
	rm -rf "$DIR/containerd" "$DIR/registry" "$DIR/etcd" "$DIR/nodes" "$DIR/volumes" "$DIR/logs" \
		"$DIR/kubeconfig" "$DIR/pids" "$DIR/cmdline" "$DIR/pki" "$DIR"/run-*
	[ "${BIN:-}" != "$DIR/bin" ] || rm -rf "$DIR/bin"
	rm -f "$DIR/lab.env"
	rmdir "$DIR" 2>/dev/null
	log "lab $ID is down"
	return 0
}

# pid_of NAME: the recorded PID of the lab's process NAME.
pid_of() { awk -v n="$1" '$2 == n {p = $1} END {print p}' "$DIR/pids"; }

load() {
	DIR=$(cd "$DIR" && pwd)
	[ -f "$DIR/lab.env" ] || die "no lab in $DIR"
	# shellcheck disable=SC1091
	. "$DIR/lab.env"
}

# signal NAME SIG: a fault for the fault-tolerance tests, by recorded PID.
signal() {
	[ ${#ARGS[@]} -eq 2 ] || usage
	load
	local pid
	pid=$(pid_of "${ARGS[0]}")
	[ -n "$pid" ] && ours "$pid" || die "${ARGS[0]} is not running"
	kill -s "${ARGS[1]}" "$pid"
}

# restart NAME [-- ARG...]: kill -9 (if it still runs) and start again with
# the same command line, plus ARGs (later flags win).
restart() {
	[ ${#ARGS[@]} -eq 1 ] || usage
	load
	local name=${ARGS[0]} pid
	[ -f "$DIR/cmdline/$name" ] || die "no process $name in this lab"
	pid=$(pid_of "$name")
	if [ -n "$pid" ] && ours "$pid"; then
		kill -KILL "$pid"
		while [ -d "/proc/$pid" ] && ours "$pid"; do sleep 0.05; done
	fi
	local cmd
	eval "cmd=($(cat "$DIR/cmdline/$name"))"
	sed -i "/ $name\$/d" "$DIR/pids"
	echo "lab: $(date +%T.%N) restart $name" >>"$DIR/logs/$name.log"
	start "$name" "${cmd[@]}" "${EXTRA[@]}"
	pid_of "$name"
}

case $CMD in
run) start "$name" "${prefix[@]}" "$@" ;;
up) up ;;
down) down ;;
signal) signal ;;
restart) restart ;;
*) usage ;;
esac
