package client_test

import (
	"context"
	"testing"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apps"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/apiserver/apiservertest"
	"minik8s/pkg/client"
)

// TestUpdateStatusOfAStaleCopy: a status computed from elsewhere lands
// even when the copy it starts from is stale (the cache behind our own
// last write), leaves the cached object untouched, and skips an object
// replaced by another of the same name.
func TestUpdateStatusOfAStaleCopy(t *testing.T) {
	s := apiservertest.Start(t)
	ctx := context.Background()
	rs := &apps.ReplicaSet{ObjectMeta: meta.ObjectMeta{Name: "rs", Namespace: "default"},
		Spec: apps.ReplicaSetSpec{Selector: &meta.LabelSelector{MatchLabels: map[string]string{"a": "b"}},
			Template: core.PodTemplateSpec{ObjectMeta: meta.ObjectMeta{Labels: map[string]string{"a": "b"}},
				Spec: core.PodSpec{Containers: []core.Container{{Name: "c", Image: "i"}}}}}}
	if err := s.Client.Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	stale := *rs // what a cache would hold
	if err := client.UpdateStatusOf(ctx, s.Client, rs, func(o *apps.ReplicaSet) { o.Status.Replicas = 1 }); err != nil {
		t.Fatal(err)
	}
	// Now stale's resourceVersion is old: the write goes to the fresh object.
	if err := client.UpdateStatusOf(ctx, s.Client, &stale, func(o *apps.ReplicaSet) { o.Status.Replicas = 2 }); err != nil {
		t.Fatalf("status from a stale copy: %v", err)
	}
	var got apps.ReplicaSet
	if err := s.Client.Get(ctx, "default", "rs", &got); err != nil || got.Status.Replicas != 2 {
		t.Fatalf("status after the stale write: %+v %v; want replicas 2", got.Status, err)
	}
	if stale.Status.Replicas != 0 {
		t.Errorf("the cached object was changed: %+v", stale.Status)
	}
	// Replaced by another ReplicaSet of the same name: not written, no error.
	k, _ := apis.ByKind("apps", "ReplicaSet")
	if err := s.Client.Delete(ctx, k, "default", "rs", nil); err != nil {
		t.Fatal(err)
	}
	again := got
	again.ResourceVersion, again.UID, again.Status = "", "", apps.ReplicaSetStatus{}
	if err := s.Client.Create(ctx, &again); err != nil {
		t.Fatal(err)
	}
	if err := client.UpdateStatusOf(ctx, s.Client, &got, func(o *apps.ReplicaSet) { o.Status.Replicas = 7 }); err != nil {
		t.Fatalf("status of a replaced object: %v; want no error", err)
	}
	var now apps.ReplicaSet
	if err := s.Client.Get(ctx, "default", "rs", &now); err != nil || now.Status.Replicas == 7 {
		t.Errorf("the new object got the old one's status: %+v %v", now.Status, err)
	}
}
