package printers

import (
	"slices"
	"strings"
	"time"

	"minik8s/pkg/apis/core"
)

var nodePrinter = &Printer{
	Columns: []Column{
		nameColumn,
		{Name: "Status", Type: "string", Description: "The status of the node"},
		{Name: "Roles", Type: "string", Description: "The roles of the node"},
		ageColumn,
		{Name: "Version", Type: "string", Description: "Kubelet Version reported by the node."},
		{Name: "Internal-IP", Type: "string", Priority: 1, Description: "List of addresses reachable to the node."},
		{Name: "External-IP", Type: "string", Priority: 1, Description: "List of addresses reachable to the node."},
		{Name: "OS-Image", Type: "string", Priority: 1, Description: "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy))."},
		{Name: "Kernel-Version", Type: "string", Priority: 1, Description: "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."},
		{Name: "Container-Runtime", Type: "string", Priority: 1, Description: "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2)."},
	},
	Row: rowOf(func(n *core.Node, now time.Time) []any {
		info := n.Status.NodeInfo
		return []any{
			n.Name,
			nodeStatus(n),
			orNone(strings.Join(nodeRoles(n), ",")),
			age(&n.ObjectMeta, now),
			info.KubeletVersion,
			nodeAddress(n, core.NodeInternalIP),
			nodeAddress(n, core.NodeExternalIP),
			orUnknown(info.OSImage),
			orUnknown(info.KernelVersion),
			orUnknown(info.ContainerRuntimeVersion),
		}
	}),
}

// nodeStatus is "Ready", "NotReady" or "Unknown" (no Ready condition
// yet), with ",SchedulingDisabled" for a cordoned node.
func nodeStatus(n *core.Node) string {
	status := "Unknown"
	for _, c := range n.Status.Conditions {
		if c.Type == core.NodeReady {
			status = "NotReady"
			if c.Status == core.ConditionTrue {
				status = "Ready"
			}
		}
	}
	if n.Spec.Unschedulable {
		status += ",SchedulingDisabled"
	}
	return status
}

// Labels that give a node its ROLES.
const (
	labelNodeRolePrefix = "node-role.kubernetes.io/" // node-role.kubernetes.io/<role>=""
	labelNodeRole       = "kubernetes.io/role"       // kubernetes.io/role=<role>
)

// nodeRoles lists the node's roles, sorted and unique.
func nodeRoles(n *core.Node) []string {
	var roles []string
	for k, v := range n.Labels {
		switch {
		case strings.HasPrefix(k, labelNodeRolePrefix):
			if role := strings.TrimPrefix(k, labelNodeRolePrefix); role != "" {
				roles = append(roles, role)
			}
		case k == labelNodeRole && v != "":
			roles = append(roles, v)
		}
	}
	slices.Sort(roles)
	return slices.Compact(roles)
}

// nodeAddress is the node's first address of type typ, or "<none>".
func nodeAddress(n *core.Node, typ string) string {
	for _, a := range n.Status.Addresses {
		if a.Type == typ {
			return a.Address
		}
	}
	return none
}

// orUnknown returns s, or "<unknown>" when s is empty.
func orUnknown(s string) string {
	if s == "" {
		return unknown
	}
	return s
}
