// Package nodeagent is minik8s' kubelet: it turns the pods bound to one node
// into containers on containerd and reports what really happens to them.
//
// What it owns: the node's Node object (registration, capacity, the Ready
// condition) and its Lease in kube-node-lease; every container in its
// containerd namespace; the pods' network namespaces (set up with CNI) and
// their directories under the root dir (volumes, /etc/hosts, logs); the
// status of the pods bound to its node; the final delete of those pods once
// their containers are gone.
//
// How it works, level-triggered as every minik8s component:
//
//   - An informer watches pods with spec.nodeName=<node>; its handlers, the
//     containerd task-exit events and the probe workers only enqueue the
//     pod's "namespace/name" key.
//   - sync(key) reads the pod from the cache and the pod's containers from
//     containerd (observe), asks the pure computePodActions what to do (a
//     diff of desired against observed, unit-tested without containerd),
//     does it, then computes the pod's status (pure computePodStatus) and
//     writes it only when it changed.
//   - Everything it needs to know about a container is on the container
//     itself (labels: pod uid, namespace, name, container name, restart
//     count, init or not; the task's exit status), so an agent killed with
//     SIGKILL and restarted adopts the running containers instead of
//     starting them again, and removes the containers whose pod is gone.
//
// The pod network across nodes is host-gateway routing (routes.go): the
// agent keeps a route to every other node's podCIDR via that node's
// InternalIP, from the Node objects, and with a cluster CIDR one
// masquerade rule for pod traffic leaving the cluster. With a node netns
// (the local lab) its API socket is made inside that namespace too.
//
// What it never does: it never changes another node's pods, never touches
// containerd namespaces other than its own, and only changes network state
// (iptables, routes, links) inside the node's network namespace: through
// the CNI plugins, and its own routes (tagged proto 77) and its own
// MINIK8S-POD-MASQ chain.
//
// The Runtime, Images and Network interfaces are what the sync loop needs;
// containerdRuntime and cniNetwork implement them.
package nodeagent
