package namespace

import (
	"context"
	"errors"
	"fmt"
	"strings"
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

func startController(t *testing.T) (context.Context, *client.Client) {
	t.Helper()
	s := apiservertest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	f := client.NewFactory(s.Client, 0)
	rec := events.New(s.Client, "namespace-controller", "test")
	nc := New(s.Client, f, rec)
	f.Start(ctx)
	done := make(chan struct{})
	go rec.Run(ctx)
	go func() { nc.Run(ctx, 2); close(done) }()
	t.Cleanup(func() { cancel(); <-done; f.Wait() })
	return ctx, s.Client
}

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

func pod(name, node string) *core.Pod {
	return &core.Pod{
		ObjectMeta: meta.ObjectMeta{Name: name, Namespace: "doomed"},
		Spec:       core.PodSpec{NodeName: node, Containers: []core.Container{{Name: "c", Image: "busybox"}}},
	}
}

// countIn counts the objects of every namespaced kind in ns, live.
func countIn(ctx context.Context, c *client.Client, ns string) (map[string]int, error) {
	out := map[string]int{}
	for _, k := range apis.All() {
		if !k.Namespaced {
			continue
		}
		items, _, err := c.List(ctx, k, ns, client.ListOptions{})
		if err != nil {
			return nil, err
		}
		if len(items) > 0 {
			out[k.Resource] = len(items)
		}
	}
	return out, nil
}

// TestDeletingNamespaceRemovesContentThenNamespace: the namespace
// refuses new content at once, loses everything it holds, waits while a
// pod terminates on its node, and goes only when it is empty.
func TestDeletingNamespaceRemovesContentThenNamespace(t *testing.T) {
	ctx, c := startController(t)
	if err := c.Create(ctx, &core.Namespace{ObjectMeta: meta.ObjectMeta{Name: "doomed"}}); err != nil {
		t.Fatal(err)
	}
	for _, obj := range []meta.Object{
		&core.ConfigMap{ObjectMeta: meta.ObjectMeta{Name: "cm", Namespace: "doomed"}},
		&core.Secret{ObjectMeta: meta.ObjectMeta{Name: "s", Namespace: "doomed"}},
		&core.ServiceAccount{ObjectMeta: meta.ObjectMeta{Name: "sa", Namespace: "doomed"}},
		pod("pending", ""),
		pod("running", "node-1"), // bound: deleted gracefully, by its node agent
	} {
		if err := c.Create(ctx, obj); err != nil {
			t.Fatalf("creating %s: %v", obj.GetObjectMeta().Name, err)
		}
	}
	nsKind, _ := apis.ByResource("", "namespaces")
	if err := c.Delete(ctx, nsKind, "", "doomed", nil); err != nil {
		t.Fatal(err)
	}

	err := c.Create(ctx, &core.ConfigMap{ObjectMeta: meta.ObjectMeta{Name: "late", Namespace: "doomed"}})
	if !errors.Is(err, apierrors.ErrForbidden) || apierrors.Code(err) != 403 {
		t.Errorf("creating in a terminating namespace: err %v; want 403 Forbidden", err)
	}

	eventually(t, "everything but the terminating pod deleted", func() (bool, string) {
		left, err := countIn(ctx, c, "doomed")
		return err == nil && len(left) == 1 && left["pods"] == 1, fmt.Sprintf("%v (err %v)", left, err)
	})
	var running core.Pod
	if err := c.Get(ctx, "doomed", "running", &running); err != nil || running.DeletionTimestamp == nil {
		t.Fatalf("bound pod: err %v, deletionTimestamp %v; want it marked for deletion", err, running.DeletionTimestamp)
	}
	eventually(t, "NamespaceContentRemaining condition", func() (bool, string) {
		var ns core.Namespace
		if err := c.Get(ctx, "", "doomed", &ns); err != nil {
			return false, fmt.Sprintf("namespace: %v (want it kept while a pod terminates)", err)
		}
		for _, cond := range ns.Status.Conditions {
			if cond.Type == "NamespaceContentRemaining" && strings.Contains(cond.Message, "pods has 1 resource instances") {
				return ns.Status.Phase == core.NamespaceTerminating, "phase " + ns.Status.Phase
			}
		}
		return false, fmt.Sprintf("conditions %+v", ns.Status.Conditions)
	})

	// Play the node agent: the containers stopped, the pod goes.
	zero := int64(0)
	podKind, _ := apis.ByResource("", "pods")
	if err := c.Delete(ctx, podKind, "doomed", "running", &meta.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "namespace deleted", func() (bool, string) {
		var ns core.Namespace
		err := c.Get(ctx, "", "doomed", &ns)
		return errors.Is(err, apierrors.ErrNotFound), fmt.Sprintf("err %v, phase %s, finalizers %v", err, ns.Status.Phase, ns.Spec.Finalizers)
	})
}

func TestNamespacesNotBeingDeletedAreLeftAlone(t *testing.T) {
	ctx, c := startController(t)
	if err := c.Create(ctx, &core.Namespace{ObjectMeta: meta.ObjectMeta{Name: "kept"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, &core.ConfigMap{ObjectMeta: meta.ObjectMeta{Name: "cm", Namespace: "kept"}}); err != nil {
		t.Fatal(err)
	}
	// A terminating namespace processed after "kept" was seen proves the
	// controller has had its chance to act on "kept".
	if err := c.Create(ctx, &core.Namespace{ObjectMeta: meta.ObjectMeta{Name: "doomed"}}); err != nil {
		t.Fatal(err)
	}
	nsKind, _ := apis.ByResource("", "namespaces")
	if err := c.Delete(ctx, nsKind, "", "doomed", nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "doomed namespace deleted", func() (bool, string) {
		err := c.Get(ctx, "", "doomed", &core.Namespace{})
		return errors.Is(err, apierrors.ErrNotFound), fmt.Sprintf("err %v", err)
	})
	var cm core.ConfigMap
	if err := c.Get(ctx, "kept", "cm", &cm); err != nil {
		t.Errorf("content of a live namespace: %v; want it kept", err)
	}
}

func TestRecheckAfterWaitsForTheFirstPodGracePeriod(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	pods, _ := apis.ByResource("", "pods")
	cms, _ := apis.ByResource("", "configmaps")
	at := func(d time.Duration) *meta.Time { t := meta.NewTime(now.Add(d)); return &t }
	tests := []struct {
		name string
		left []remaining
		want time.Duration
	}{
		{"pod ending in 5s", []remaining{{pods, meta.ObjectMeta{DeletionTimestamp: at(5 * time.Second)}}}, 5 * time.Second},
		{"pods: the first one counts", []remaining{{pods, meta.ObjectMeta{DeletionTimestamp: at(8 * time.Second)}}, {pods, meta.ObjectMeta{DeletionTimestamp: at(3 * time.Second)}}}, 3 * time.Second},
		{"pod past its grace period", []remaining{{pods, meta.ObjectMeta{DeletionTimestamp: at(-time.Minute)}}}, minRecheck},
		{"pod with a long grace period", []remaining{{pods, meta.ObjectMeta{DeletionTimestamp: at(time.Hour)}}}, maxRecheck},
		{"object held by a finalizer", []remaining{{cms, meta.ObjectMeta{DeletionTimestamp: at(0)}}}, minRecheck},
	}
	for _, tt := range tests {
		if got := recheckAfter(tt.left, now); got != tt.want {
			t.Errorf("%s: recheckAfter = %v; want %v", tt.name, got, tt.want)
		}
	}
}
