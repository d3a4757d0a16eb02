package client_test

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

// TestFactorySharesInformersAndSyncs: one informer per kind, filled from
// the real API, including objects created after Start.
func TestFactorySharesInformersAndSyncs(t *testing.T) {
	s := apiservertest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.Client.Create(ctx, &core.ConfigMap{ObjectMeta: meta.ObjectMeta{Name: "before", Namespace: "default"}})
	f := client.NewFactory(s.Client, 0)
	k, _ := apis.ByResource("", "configmaps")
	a, b := f.For(k), f.For(k)
	if a != b {
		t.Fatal("two informers for one kind")
	}
	f.Start(ctx)
	if !f.WaitForSync(ctx) {
		t.Fatal("no sync")
	}
	if _, ok := a.Store().Get("default/before"); !ok {
		t.Error("object created before Start is not in the cache")
	}
	s.Client.Create(ctx, &core.ConfigMap{ObjectMeta: meta.ObjectMeta{Name: "after", Namespace: "default"}})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, ok := a.Store().Get("default/after"); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("object created after Start never reached the cache")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	f.Wait()
}
