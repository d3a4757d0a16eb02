package printers

import (
	"testing"
	"time"

	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
)

func TestEventColumns(t *testing.T) {
	pulled := core.Event{
		ObjectMeta:     meta.ObjectMeta{Name: "web-1.17f3a"},
		InvolvedObject: core.ObjectReference{Kind: "Pod", Name: "web-1", FieldPath: "spec.containers{app}"},
		Type:           core.EventTypeNormal, Reason: "Pulled", Message: "  Container image pulled\n",
		Source:         core.EventSource{Component: "kubelet", Host: "node-1"},
		FirstTimestamp: ago(10 * time.Minute), LastTimestamp: ago(5 * time.Minute), Count: 4,
	}
	for _, tc := range []struct {
		name  string
		event core.Event
		want  map[string]any
	}{
		{"legacy event", pulled, map[string]any{
			"Last Seen": "5m", "Type": "Normal", "Reason": "Pulled", "Object": "pod/web-1",
			"Subobject": "spec.containers{app}", "Source": "kubelet, node-1", "Message": "Container image pulled",
			"First Seen": "10m", "Count": int64(4), "Name": "web-1.17f3a",
		}},
		{"events.k8s.io singleton", core.Event{
			InvolvedObject:      core.ObjectReference{Kind: "Node"},
			EventTime:           meta.MicroTime{Time: now.Add(-30 * time.Second)},
			ReportingController: "scheduler",
		}, map[string]any{"Last Seen": "30s", "First Seen": "30s", "Count": int64(1), "Object": "node", "Source": "scheduler"}},
		{"events.k8s.io series", core.Event{
			EventTime:           meta.MicroTime{Time: now.Add(-time.Hour)},
			Series:              &core.EventSeries{Count: 12, LastObservedTime: meta.MicroTime{Time: now.Add(-3 * time.Second)}},
			ReportingController: "kubelet", ReportingInstance: "node-2",
		}, map[string]any{"Last Seen": "3s", "First Seen": "60m", "Count": int64(12), "Source": "kubelet, node-2"}},
		{"no timestamps", core.Event{}, map[string]any{"Last Seen": "<unknown>", "First Seen": "<unknown>", "Object": ""}},
	} {
		checkCells(t, tc.name, row(t, "", "events", &tc.event), tc.want)
	}
}
