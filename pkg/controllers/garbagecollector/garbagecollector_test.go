package garbagecollector

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/apiserver/apiservertest"
	"minik8s/pkg/client"
	"minik8s/pkg/client/events"
)

// The tests run the collector against a real API server on embedded etcd
// and check the resulting state, never which calls were made.

const ns = "default"

var (
	configMaps, _ = apis.ByResource("", "configmaps")
	secrets, _    = apis.ByResource("", "secrets")
	pods, _       = apis.ByResource("", "pods")
)

// startCollector starts an API server and a collector on it; both stop
// when the test ends.
func startCollector(t *testing.T) (context.Context, *client.Client) {
	t.Helper()
	s := apiservertest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	f := client.NewFactory(s.Client, 0)
	rec := events.New(s.Client, "garbage-collector", "test")
	gc := New(s.Client, f, rec)
	f.Start(ctx)
	done := make(chan struct{})
	go rec.Run(ctx)
	go func() { gc.Run(ctx, 2); close(done) }()
	t.Cleanup(func() { cancel(); <-done; f.Wait() })
	return ctx, s.Client
}

// eventually polls cond until it holds or the deadline passes; cond
// returns a description of the state it saw, for the failure message.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, got := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not true after 20s; got %s", what, got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func ownedBy(owner meta.Object, block bool) []meta.OwnerReference {
	k, _ := apis.ForObject(owner)
	m := owner.GetObjectMeta()
	return []meta.OwnerReference{{APIVersion: k.APIVersion(), Kind: k.Kind, Name: m.Name, UID: m.UID, BlockOwnerDeletion: &block}}
}

func configMap(name string, refs []meta.OwnerReference) *core.ConfigMap {
	return &core.ConfigMap{ObjectMeta: meta.ObjectMeta{Name: name, Namespace: ns, OwnerReferences: refs}}
}

func create(t *testing.T, ctx context.Context, c *client.Client, obj meta.Object) {
	t.Helper()
	if err := c.Create(ctx, obj); err != nil {
		t.Fatalf("creating %s: %v", obj.GetObjectMeta().Name, err)
	}
}

func deleteWith(t *testing.T, ctx context.Context, c *client.Client, k *apis.Kind, name, policy string) {
	t.Helper()
	opts := &meta.DeleteOptions{}
	if policy != "" {
		opts.PropagationPolicy = &policy
	}
	if err := c.Delete(ctx, k, ns, name, opts); err != nil {
		t.Fatalf("deleting %s: %v", name, err)
	}
}

// exists reports whether the named object is on the server.
func exists(ctx context.Context, c *client.Client, k *apis.Kind, name string) (meta.Object, bool, error) {
	obj := k.New()
	err := c.Get(ctx, ns, name, obj)
	if errors.Is(err, apierrors.ErrNotFound) {
		return nil, false, nil
	}
	return obj, err == nil, err
}

// allGone waits until none of the named objects exists.
func allGone(t *testing.T, ctx context.Context, c *client.Client, objs map[string]*apis.Kind) {
	t.Helper()
	eventually(t, "dependents deleted", func() (bool, string) {
		var left []string
		for name, k := range objs {
			if _, ok, _ := exists(ctx, c, k, name); ok {
				left = append(left, k.Resource+"/"+name)
			}
		}
		return len(left) == 0, fmt.Sprintf("still there: %v", left)
	})
}

func TestBackgroundDeletionOfOwnerCollectsDependentsOfEveryKind(t *testing.T) {
	ctx, c := startCollector(t)
	owner := configMap("owner", nil)
	create(t, ctx, c, owner)
	create(t, ctx, c, configMap("child-cm", ownedBy(owner, false)))
	create(t, ctx, c, &core.Secret{ObjectMeta: meta.ObjectMeta{Name: "child-secret", Namespace: ns, OwnerReferences: ownedBy(owner, false)}})
	create(t, ctx, c, &core.Pod{ObjectMeta: meta.ObjectMeta{Name: "child-pod", Namespace: ns, OwnerReferences: ownedBy(owner, true)},
		Spec: core.PodSpec{Containers: []core.Container{{Name: "c", Image: "busybox"}}}})
	bystander := configMap("bystander", nil)
	create(t, ctx, c, bystander)

	deleteWith(t, ctx, c, configMaps, "owner", meta.DeletePropagationBackground)

	allGone(t, ctx, c, map[string]*apis.Kind{"owner": configMaps, "child-cm": configMaps, "child-secret": secrets, "child-pod": pods})
	if _, ok, err := exists(ctx, c, configMaps, "bystander"); !ok {
		t.Errorf("an object without owners was deleted (err %v); want it kept", err)
	}
}

func TestDanglingDependentsAreCollected(t *testing.T) {
	ctx, c := startCollector(t)
	// An owner uid that never existed.
	never := []meta.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "ghost", UID: "00000000-0000-0000-0000-000000000000"}}
	create(t, ctx, c, configMap("dangling", never))

	// An owner deleted and re-created under the same name: the new object
	// is not the owner the dependent names.
	old := configMap("reborn", nil)
	create(t, ctx, c, old)
	refsToOld := ownedBy(old, false)
	deleteWith(t, ctx, c, configMaps, "reborn", "")
	create(t, ctx, c, configMap("reborn", nil))
	create(t, ctx, c, configMap("child-of-old", refsToOld))

	// A dependent whose owner is alive stays.
	alive := configMap("alive", nil)
	create(t, ctx, c, alive)
	create(t, ctx, c, configMap("child-of-alive", ownedBy(alive, false)))

	allGone(t, ctx, c, map[string]*apis.Kind{"dangling": configMaps, "child-of-old": configMaps})
	for _, name := range []string{"reborn", "alive", "child-of-alive"} {
		if _, ok, err := exists(ctx, c, configMaps, name); !ok {
			t.Errorf("%s was deleted (err %v); want it kept: its owner, if any, exists", name, err)
		}
	}
}

func TestDependentWithAnotherLiveOwnerSurvivesAndForgetsTheDeletedOne(t *testing.T) {
	ctx, c := startCollector(t)
	a, b := configMap("owner-a", nil), configMap("owner-b", nil)
	create(t, ctx, c, a)
	create(t, ctx, c, b)
	create(t, ctx, c, configMap("shared", append(ownedBy(a, false), ownedBy(b, false)...)))

	deleteWith(t, ctx, c, configMaps, "owner-a", "")

	eventually(t, "reference to the deleted owner removed", func() (bool, string) {
		obj, ok, err := exists(ctx, c, configMaps, "shared")
		if !ok {
			return false, fmt.Sprintf("shared is gone (err %v)", err)
		}
		refs := obj.GetObjectMeta().OwnerReferences
		return len(refs) == 1 && refs[0].UID == b.UID, fmt.Sprintf("ownerReferences %+v", refs)
	})
}

// TestForegroundDeletionDeletesDependentsFirstAndOwnerLast follows the
// deletions through a watch: every dependent's DELETED (a grandchild's
// before its parent's) comes before the owner's.
func TestForegroundDeletionDeletesDependentsFirstAndOwnerLast(t *testing.T) {
	ctx, c := startCollector(t)
	owner := configMap("owner", nil)
	create(t, ctx, c, owner)
	child1 := configMap("child-1", ownedBy(owner, true))
	create(t, ctx, c, child1)
	create(t, ctx, c, configMap("child-2", ownedBy(owner, true)))
	create(t, ctx, c, configMap("grandchild", ownedBy(child1, true)))

	w, err := c.Watch(ctx, configMaps, ns, client.ListOptions{ResourceVersion: owner.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	deleteWith(t, ctx, c, configMaps, "owner", meta.DeletePropagationForeground)

	// Right after the DELETE the owner is only marked.
	if obj, ok, _ := exists(ctx, c, configMaps, "owner"); !ok || obj.GetObjectMeta().DeletionTimestamp == nil {
		t.Fatalf("owner right after a foreground DELETE: exists %v; want it present with a deletionTimestamp", ok)
	}
	var order []string
	timeout := time.After(20 * time.Second)
	for len(order) < 4 {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatalf("watch ended; deletions seen %v", order)
			}
			if ev.Type == meta.Deleted {
				order = append(order, ev.Object.GetObjectMeta().Name)
			}
		case <-timeout:
			t.Fatalf("deletions seen after 20s: %v; want child-1, child-2, grandchild, then owner", order)
		}
	}
	pos := map[string]int{}
	for i, n := range order {
		pos[n] = i
	}
	if pos["owner"] != 3 {
		t.Errorf("deletion order %v; want the owner last", order)
	}
	if pos["grandchild"] > pos["child-1"] {
		t.Errorf("deletion order %v; want grandchild before its owner child-1", order)
	}
}

func TestOrphanDeletionLeavesDependentsWithoutTheOwnerReference(t *testing.T) {
	ctx, c := startCollector(t)
	owner := configMap("owner", nil)
	create(t, ctx, c, owner)
	other := configMap("other-owner", nil)
	create(t, ctx, c, other)
	create(t, ctx, c, configMap("child-1", ownedBy(owner, true)))
	create(t, ctx, c, configMap("child-2", append(ownedBy(owner, false), ownedBy(other, false)...)))

	deleteWith(t, ctx, c, configMaps, "owner", meta.DeletePropagationOrphan)

	eventually(t, "owner deleted", func() (bool, string) {
		_, ok, err := exists(ctx, c, configMaps, "owner")
		return !ok && err == nil, fmt.Sprintf("exists %v, err %v", ok, err)
	})
	// The finalizer goes only after every dependent let go of the owner,
	// so by now the dependents must be orphans.
	for name, want := range map[string]int{"child-1": 0, "child-2": 1} {
		obj, ok, err := exists(ctx, c, configMaps, name)
		if !ok {
			t.Errorf("%s deleted (err %v); want it kept", name, err)
			continue
		}
		refs := obj.GetObjectMeta().OwnerReferences
		if len(refs) != want || (want == 1 && refs[0].UID != other.UID) {
			t.Errorf("%s ownerReferences %+v; want only the %d reference(s) to other owners", name, refs, want)
		}
	}
}

func TestOrphanFinalizerOnObjectWithoutDependentsIsRemoved(t *testing.T) {
	ctx, c := startCollector(t)
	create(t, ctx, c, &core.Secret{ObjectMeta: meta.ObjectMeta{Name: "lonely", Namespace: ns}})
	deleteWith(t, ctx, c, secrets, "lonely", meta.DeletePropagationOrphan)
	eventually(t, "secret deleted", func() (bool, string) {
		obj, ok, _ := exists(ctx, c, secrets, "lonely")
		if ok {
			return false, fmt.Sprintf("finalizers %v", obj.GetObjectMeta().Finalizers)
		}
		return true, ""
	})
}
