package replicaset

import (
	"context"
	"fmt"
	"testing"
	"time"

	"minik8s/pkg/apis/apps"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/apiserver/apiservertest"
	"minik8s/pkg/client"
	"minik8s/pkg/client/events"
	"minik8s/pkg/controllers/controllertest"
)

// These tests run the controller against a real API server on embedded
// etcd. Pods are only objects: controllertest.MarkPodsReady plays the
// node agent where readiness matters.

const ns = "default"

// startController runs a ReplicaSet controller talking to c until the
// test ends.
func startController(t *testing.T, c *client.Client) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f := client.NewFactory(c, 0)
	rec := events.New(c, "replicaset-controller", "test")
	ctrl := New(c, f, rec)
	f.Start(ctx)
	done := make(chan struct{})
	go rec.Run(ctx)
	go func() { ctrl.Run(ctx, 2); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		f.Wait()
	})
}

// waitFor polls cond until it reports true, failing the test with cond's
// last description after timeout.
func waitFor(t *testing.T, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, desc := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v: %s", timeout, desc)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func newRS(name string, n int32) *apps.ReplicaSet {
	return &apps.ReplicaSet{
		ObjectMeta: meta.ObjectMeta{Name: name, Namespace: ns},
		Spec: apps.ReplicaSetSpec{
			Replicas: &n,
			Selector: &meta.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: core.PodTemplateSpec{
				ObjectMeta: meta.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:       core.PodSpec{Containers: []core.Container{{Name: "c", Image: "img:1"}}},
			},
		},
	}
}

// activePods lists the active pods of the namespace with label app=app.
func activePods(t *testing.T, c *client.Client, app string) []*core.Pod {
	t.Helper()
	objs, _, err := c.List(context.Background(), podKind, ns, client.ListOptions{LabelSelector: "app=" + app})
	if err != nil {
		t.Fatal(err)
	}
	var out []*core.Pod
	for _, o := range objs {
		if p := o.(*core.Pod); isActive(p) {
			out = append(out, p)
		}
	}
	return out
}

// ownedActive counts active pods controlled by the ReplicaSet with uid.
func ownedActive(pods []*core.Pod, uid string) int {
	n := 0
	for _, p := range pods {
		if ref := controllerOf(&p.ObjectMeta); ref != nil && ref.UID == uid {
			n++
		}
	}
	return n
}

func getRS(t *testing.T, c *client.Client, name string) *apps.ReplicaSet {
	t.Helper()
	var rs apps.ReplicaSet
	if err := c.Get(context.Background(), ns, name, &rs); err != nil {
		t.Fatal(err)
	}
	return &rs
}

// waitSettled waits until the ReplicaSet has exactly want active owned
// pods, all ready, and its status says so for its current generation.
func waitSettled(t *testing.T, c *client.Client, name string, want int) *apps.ReplicaSet {
	t.Helper()
	var rs *apps.ReplicaSet
	waitFor(t, 20*time.Second, func() (bool, string) {
		rs = getRS(t, c, name)
		pods := activePods(t, c, name)
		owned := ownedActive(pods, rs.UID)
		st := rs.Status
		return owned == want && len(pods) == want && st.Replicas == int32(want) && st.ReadyReplicas == int32(want) &&
				st.AvailableReplicas == int32(want) && st.ObservedGeneration == rs.Generation,
			spf("%d active pods, %d owned, status %+v, generation %d; want %d of each", len(pods), owned, st, rs.Generation, want)
	})
	return rs
}

func TestReplicaSetRestoresItsCountAndTrimsExtras(t *testing.T) {
	s := apiservertest.Start(t)
	ctx := context.Background()
	c := s.Client
	controllertest.MarkPodsReady(t, c, ns, 0)
	startController(t, c)

	rs := newRS("web", 3)
	if err := c.Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	waitSettled(t, c, "web", 3)

	// Delete two pods: the ReplicaSet replaces them.
	before := activePods(t, c, "web")
	for _, p := range before[:2] {
		if err := c.Delete(ctx, podKind, ns, p.Name, nil); err != nil {
			t.Fatal(err)
		}
	}
	waitSettled(t, c, "web", 3)
	for _, p := range activePods(t, c, "web") {
		if p.Name == before[0].Name || p.Name == before[1].Name {
			t.Errorf("pod %s was deleted but is still listed", p.Name)
		}
	}

	// Two extra matching pods appear: the ReplicaSet adopts them, then
	// deletes down to three (which ones: see the unit tests).
	for _, name := range []string{"extra-1", "extra-2"} {
		p := &core.Pod{ObjectMeta: meta.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": "web"}},
			Spec: core.PodSpec{Containers: []core.Container{{Name: "c", Image: "img:1"}}}}
		if err := c.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	waitSettled(t, c, "web", 3)

	// Scale down through spec.replicas.
	cur := getRS(t, c, "web")
	one := int32(1)
	cur.Spec.Replicas = &one
	if err := c.Update(ctx, cur); err != nil {
		t.Fatal(err)
	}
	waitSettled(t, c, "web", 1)
}

func TestReplicaSetAdoptsOrphansAndReleasesPodsThatStopMatching(t *testing.T) {
	s := apiservertest.Start(t)
	ctx := context.Background()
	c := s.Client
	controllertest.MarkPodsReady(t, c, ns, 0)

	orphan := &core.Pod{ObjectMeta: meta.ObjectMeta{Name: "orphan", Namespace: ns, Labels: map[string]string{"app": "web"}},
		Spec: core.PodSpec{Containers: []core.Container{{Name: "c", Image: "img:1"}}}}
	if err := c.Create(ctx, orphan); err != nil {
		t.Fatal(err)
	}
	startController(t, c)
	if err := c.Create(ctx, newRS("web", 2)); err != nil {
		t.Fatal(err)
	}
	rs := waitSettled(t, c, "web", 2)
	var got core.Pod
	if err := c.Get(ctx, ns, "orphan", &got); err != nil {
		t.Fatalf("the orphan is gone (%v); want it adopted, not replaced", err)
	}
	if ref := controllerOf(&got.ObjectMeta); ref == nil || ref.UID != rs.UID || ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion {
		t.Fatalf("orphan's controller: got %+v; want the ReplicaSet %s with blockOwnerDeletion", ref, rs.UID)
	}

	// Relabel the adopted pod: it is released and replaced.
	got.Labels = map[string]string{"app": "debug"}
	if err := c.Update(ctx, &got); err != nil {
		t.Fatal(err)
	}
	waitSettled(t, c, "web", 2)
	waitFor(t, 10*time.Second, func() (bool, string) {
		var p core.Pod // fresh: decoding into a used struct keeps absent fields
		if err := c.Get(ctx, ns, "orphan", &p); err != nil {
			t.Fatal(err)
		}
		return controllerOf(&p.ObjectMeta) == nil, spf("relabelled pod's owners: %+v; want none", p.OwnerReferences)
	})
}

// TestReplicaSetExpectationsPreventOverCreationWithASlowWatch runs the
// controller behind a proxy that delays every watch event, so its pod
// cache lags far behind its own creations. Without expectations each
// sync would count only the pods its cache shows and create the rest
// again. A separate, fast watch checks the count at every event.
func TestReplicaSetExpectationsPreventOverCreationWithASlowWatch(t *testing.T) {
	s := apiservertest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	slow, err := client.New(controllertest.SlowWatchProxy(t, s.URL, 30*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	const want = 20
	rs := newRS("web", want)
	if err := s.Client.Create(ctx, rs); err != nil {
		t.Fatal(err)
	}

	w, err := s.Client.Watch(ctx, podKind, ns, client.ListOptions{ResourceVersion: rs.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	startController(t, slow)

	live := map[string]bool{}
	maxSeen := 0
	deadline := time.After(25 * time.Second)
	settled := time.NewTicker(200 * time.Millisecond)
	defer settled.Stop()
	for {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatal("watch ended early")
			}
			p := ev.Object.(*core.Pod)
			if ev.Type == meta.Deleted || !isActive(p) {
				delete(live, p.Name)
			} else {
				live[p.Name] = true
			}
			maxSeen = max(maxSeen, len(live))
			if len(live) > want {
				t.Fatalf("%d active pods at a watch event; want at most %d", len(live), want)
			}
		case <-settled.C:
			cur := getRS(t, s.Client, "web")
			if cur.Status.Replicas == want && len(live) == want {
				return
			}
		case <-deadline:
			t.Fatalf("timed out: %d active pods (at most %d); want %d", len(live), maxSeen, want)
		}
	}
}

func TestReplicaSetCountsAvailableAfterMinReadySeconds(t *testing.T) {
	s := apiservertest.Start(t)
	ctx := context.Background()
	c := s.Client
	controllertest.MarkPodsReady(t, c, ns, 0)
	startController(t, c)
	rs := newRS("web", 2)
	rs.Spec.MinReadySeconds = 2
	if err := c.Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	sawReadyNotAvailable := false
	waitFor(t, 20*time.Second, func() (bool, string) {
		st := getRS(t, c, "web").Status
		if st.ReadyReplicas == 2 && st.AvailableReplicas < 2 {
			sawReadyNotAvailable = true
		}
		return st.AvailableReplicas == 2, spf("status %+v; want 2 available", st)
	})
	if !sawReadyNotAvailable {
		t.Error("never saw 2 ready pods that were not yet available; want availability to wait for minReadySeconds")
	}
}

var spf = fmt.Sprintf
