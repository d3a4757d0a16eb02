package events

import (
	"context"
	"testing"
	"time"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/apiserver/apiservertest"
	"minik8s/pkg/client"
)

func TestRepeatedEventsAreCounted(t *testing.T) {
	s := apiservertest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pod := &core.Pod{ObjectMeta: meta.ObjectMeta{Name: "p", Namespace: "default"},
		Spec: core.PodSpec{Containers: []core.Container{{Name: "c", Image: "img"}}}}
	if err := s.Client.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	r := New(s.Client, "test-component", "host-1")
	go r.Run(ctx)
	for i := 0; i < 3; i++ {
		r.Eventf(pod, Warning, "FailedScheduling", "0/%d nodes are available", 3)
	}
	r.Eventf(pod, Normal, "Scheduled", "assigned to n1")
	k, _ := apis.ByResource("", "events")
	deadline := time.Now().Add(10 * time.Second)
	for {
		items, _, err := s.Client.List(ctx, k, "default", client.ListOptions{FieldSelector: "involvedObject.name=p"})
		if err != nil {
			t.Fatal(err)
		}
		counts := map[string]int32{}
		for _, it := range items {
			ev := it.(*core.Event)
			counts[ev.Reason] = ev.Count
			if ev.InvolvedObject.Kind != "Pod" || ev.InvolvedObject.UID != pod.UID || ev.Source.Component != "test-component" {
				t.Fatalf("event %+v: want it to reference the pod and the component", ev)
			}
		}
		if len(items) == 2 && counts["FailedScheduling"] == 3 && counts["Scheduled"] == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d events with counts %v; want FailedScheduling x3 in one event and Scheduled x1", len(items), counts)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
