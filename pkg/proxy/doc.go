// Package proxy is minik8s' service proxy: it makes traffic to a
// Service's cluster IP (and node ports) reach the Service's ready
// endpoints, on one node, by programming the node's nat table the way
// kube-proxy's iptables mode does. It can also serve cluster DNS (package
// dns) from the same caches.
//
// Shape (kube-proxy, pkg/proxy/iptables):
//
//   - Pure core. Rules(services, endpoints, config) returns the content of
//     every chain the proxy owns (KUBE-SERVICES, KUBE-NODEPORTS,
//     KUBE-POSTROUTING, KUBE-MARK-MASQ, and per Service port KUBE-SVC-*,
//     KUBE-EXT-*, per endpoint KUBE-SEP-*, named with kube-proxy's hashes).
//     It is a function of its inputs and is table-tested.
//
//   - Thin shell. The syncer diffs that against what it last wrote and
//     hands iptables-restore --noflush only the chains that changed, the
//     new ones, and -X for the ones that went; the other chains, and every
//     chain the proxy does not own, are left as they are. The jumps from
//     PREROUTING, OUTPUT and POSTROUTING are single rules kept in place
//     with go-iptables. After a failed write, or at start, the next sync
//     rewrites everything and removes leftover KUBE-SVC/SEP/EXT chains.
//     When an endpoint of a UDP Service goes, its conntrack entries are
//     deleted (conntrack program; skipped if absent), since conntrack would
//     keep sending the flow to the dead endpoint.
//
//   - Level-triggered. Service and Endpoints events only signal "something
//     changed"; a sync reads the whole cached state. Syncs are at least
//     Config.MinSyncPeriod apart, so bursts of changes are written once.
//
// What it does not do: a Service port without ready endpoints gets no
// rules (kube-proxy REJECTs such traffic in the filter table; here it
// goes unanswered); externalTrafficPolicy Local is treated as Cluster;
// IPv6 is not handled. The rules stay in place when the proxy stops, so
// traffic keeps flowing across a restart.
//
// Safety: Config.Netns makes the proxy program another network
// namespace's table (tests, labs) while it runs where it is; tests only
// ever program namespaces they created.
package proxy
