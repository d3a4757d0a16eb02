package printers

import (
	"testing"
	"time"

	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
)

func TestNodeColumns(t *testing.T) {
	ready := []core.NodeCondition{
		{Type: core.NodeMemoryPressure, Status: core.ConditionFalse},
		{Type: core.NodeReady, Status: core.ConditionTrue},
	}
	for _, tc := range []struct {
		name string
		node core.Node
		want map[string]any
	}{
		{"cordoned control plane", core.Node{
			ObjectMeta: meta.ObjectMeta{Name: "cp-1", CreationTimestamp: ago(9 * 24 * time.Hour),
				Labels: map[string]string{core.LabelNodeRoleControlPlane: "", "node-role.kubernetes.io/worker": "", "kubernetes.io/role": "master"}},
			Spec: core.NodeSpec{Unschedulable: true},
			Status: core.NodeStatus{
				Conditions: ready,
				Addresses:  []core.NodeAddress{{Type: core.NodeHostName, Address: "cp-1"}, {Type: core.NodeInternalIP, Address: "192.168.1.10"}},
				NodeInfo: core.NodeSystemInfo{KubeletVersion: "v1.32.0", OSImage: "Debian GNU/Linux 12 (bookworm)",
					KernelVersion: "6.1.0-28-amd64", ContainerRuntimeVersion: "containerd://1.7.24"},
			},
		}, map[string]any{
			"Name": "cp-1", "Status": "Ready,SchedulingDisabled", "Roles": "control-plane,master,worker",
			"Age": "9d", "Version": "v1.32.0", "Internal-IP": "192.168.1.10", "External-IP": "<none>",
			"OS-Image": "Debian GNU/Linux 12 (bookworm)", "Kernel-Version": "6.1.0-28-amd64",
			"Container-Runtime": "containerd://1.7.24",
		}},
		{"not ready", core.Node{Status: core.NodeStatus{
			Conditions: []core.NodeCondition{{Type: core.NodeReady, Status: core.ConditionUnknown}},
			Addresses:  []core.NodeAddress{{Type: core.NodeExternalIP, Address: "203.0.113.7"}},
		}}, map[string]any{"Status": "NotReady", "Roles": "<none>", "External-IP": "203.0.113.7", "Internal-IP": "<none>"}},
		{"never reported", core.Node{}, map[string]any{
			"Status": "Unknown", "Version": "", "OS-Image": "<unknown>", "Kernel-Version": "<unknown>", "Container-Runtime": "<unknown>",
		}},
	} {
		checkCells(t, tc.name, row(t, "", "nodes", &tc.node), tc.want)
	}
}
