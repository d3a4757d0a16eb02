package statefulset

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/apps"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/apis/resource"
	"minik8s/pkg/apiserver/apiservertest"
	"minik8s/pkg/client"
	"minik8s/pkg/client/events"
	"minik8s/pkg/controllers/controllertest"
)

// These tests run the controller against a real API server on embedded
// etcd, with a controllertest agent playing the node agent: it binds pods
// to node-1 (so deletions are graceful and pods stay Terminating until
// the agent removes them), marks them Running and Ready, and removes
// terminating pods, unless told the node is gone.

const ns = "default"

var spf = fmt.Sprintf

func startController(t *testing.T, c *client.Client) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f := client.NewFactory(c, 0)
	rec := events.New(c, "statefulset-controller", "test")
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

// agent plays node-1's agent: pods are ready readyAfter after they appear
// and terminating pods are removed 100 ms after.
func agent(readyAfter time.Duration, serves func(*core.Pod) bool) controllertest.Agent {
	return controllertest.Agent{NodeName: "node-1", ReadyAfter: readyAfter, TerminateAfter: 100 * time.Millisecond, Serves: serves}
}

func newSet(name string, n int32) *apps.StatefulSet {
	return &apps.StatefulSet{
		ObjectMeta: meta.ObjectMeta{Name: name, Namespace: ns},
		Spec: apps.StatefulSetSpec{
			Replicas:    &n,
			ServiceName: name,
			Selector:    &meta.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: core.PodTemplateSpec{
				ObjectMeta: meta.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:       core.PodSpec{Containers: []core.Container{{Name: "c", Image: "img:1"}}},
			},
		},
	}
}

func getSet(t *testing.T, c *client.Client, name string) *apps.StatefulSet {
	t.Helper()
	var s apps.StatefulSet
	if err := c.Get(context.Background(), ns, name, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

// editSet applies edit to a fresh copy of the set and updates it, again
// on a conflict with the controller's status writes.
func editSet(t *testing.T, c *client.Client, name string, edit func(*apps.StatefulSet)) {
	t.Helper()
	for {
		s := getSet(t, c, name)
		edit(s)
		err := c.Update(context.Background(), s)
		if err == nil {
			return
		}
		if !errors.Is(err, apierrors.ErrConflict) {
			t.Fatal(err)
		}
	}
}

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

// ---- a watch that checks an invariant at every pod event ----

// podWatch is the pods of ns as a watch has shown them so far.
type podWatch struct {
	t    *testing.T
	w    client.Watcher
	pods map[string]*core.Pod
}

// watchPods starts a watch of ns's pods from now.
func watchPods(t *testing.T, c *client.Client) *podWatch {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	objs, rv, err := c.List(ctx, podKind, ns, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pw := &podWatch{t: t, pods: map[string]*core.Pod{}}
	for _, o := range objs {
		pw.pods[o.GetObjectMeta().Name] = o.(*core.Pod)
	}
	if pw.w, err = c.Watch(ctx, podKind, ns, client.ListOptions{ResourceVersion: rv}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pw.w.Stop)
	return pw
}

// until applies events until done() holds (checked at every event and
// every 100 ms), calling check(type, old, new)
// at every event after the pod map has been updated (old is nil for a
// pod first seen, new is nil for a deleted pod). It fails the test when
// check returns an error, or after timeout.
func (pw *podWatch) until(timeout time.Duration, done func() bool, check func(typ string, old, cur *core.Pod) error) {
	pw.t.Helper()
	deadline := time.After(timeout)
	tick := time.NewTicker(100 * time.Millisecond) // done may turn true without an event
	defer tick.Stop()
	for !done() {
		select {
		case <-tick.C:
		case ev, ok := <-pw.w.ResultChan():
			if !ok {
				pw.t.Fatal("watch ended early")
			}
			if ev.Type == meta.Bookmark {
				continue
			}
			p := ev.Object.(*core.Pod)
			old := pw.pods[p.Name]
			cur := p
			if ev.Type == meta.Deleted {
				delete(pw.pods, p.Name)
				cur = nil
			} else {
				pw.pods[p.Name] = p
			}
			if check != nil {
				if err := check(string(ev.Type), old, cur); err != nil {
					pw.t.Fatalf("at a %s event of %s: %v; pods: %s", ev.Type, p.Name, err, pw.describe())
				}
			}
		case <-deadline:
			pw.t.Fatalf("timed out after %v; pods: %s", timeout, pw.describe())
		}
	}
}

// healthy lists the ordinals of set's pods that are Running, Ready and
// not terminating.
func (pw *podWatch) healthy(set string) []int {
	var out []int
	for _, p := range pw.pods {
		if ord, ok := ordinalOf(set, p.Name); ok && isHealthy(p) {
			out = append(out, ord)
		}
	}
	slices.Sort(out)
	return out
}

func (pw *podWatch) describe() string {
	var parts []string
	for _, p := range pw.pods {
		parts = append(parts, spf("%s(rev %s, %s, ready %v, terminating %v)", p.Name, p.Labels[RevisionLabel],
			p.Status.Phase, isRunningAndReady(p), isTerminating(p)))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

func ords(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// orderedReadyCheck is the OrderedReady contract, checked at one event:
// web-N appears only when web-0..N-1 are Running and Ready; web-N starts
// terminating (or vanishes) only when no higher pod exists and no other
// pod is terminating.
func orderedReadyCheck(pw *podWatch, set string) func(typ string, old, cur *core.Pod) error {
	return func(typ string, old, cur *core.Pod) error {
		switch {
		case old == nil && cur != nil:
			n, _ := ordinalOf(set, cur.Name)
			for k := range n {
				if p := pw.pods[podName(set, k)]; p == nil || !isHealthy(p) {
					return fmt.Errorf("%s created while %s is not Running and Ready", cur.Name, podName(set, k))
				}
			}
		case old != nil && !isTerminating(old) && (cur == nil || isTerminating(cur)):
			n, _ := ordinalOf(set, old.Name)
			for _, p := range pw.pods {
				m, _ := ordinalOf(set, p.Name)
				if m > n {
					return fmt.Errorf("%s deleted while %s exists", old.Name, p.Name)
				}
				if p.Name != old.Name && isTerminating(p) {
					return fmt.Errorf("%s deleted while %s is still terminating", old.Name, p.Name)
				}
			}
		}
		return nil
	}
}

func TestStatefulSetOrderedReadyCreatesInOrderAndDeletesFromTheTop(t *testing.T) {
	s := apiservertest.Start(t)
	c := s.Client
	controllertest.RunAgent(t, c, ns, agent(150*time.Millisecond, nil))
	startController(t, c)
	pw := watchPods(t, c)

	if err := c.Create(context.Background(), newSet("web", 4)); err != nil {
		t.Fatal(err)
	}
	pw.until(25*time.Second, func() bool { return slices.Equal(pw.healthy("web"), ords(4)) }, orderedReadyCheck(pw, "web"))

	p := pw.pods["web-2"]
	if p.Labels[PodNameLabel] != "web-2" || p.Labels[PodIndexLabel] != "2" || p.Labels[RevisionLabel] == "" {
		t.Errorf("web-2 labels %v; want pod-name web-2, pod-index 2 and a revision", p.Labels)
	}
	if p.Spec.Hostname != "web-2" || p.Spec.Subdomain != "web" {
		t.Errorf("web-2 hostname %q subdomain %q; want web-2 and web (the service)", p.Spec.Hostname, p.Spec.Subdomain)
	}
	waitFor(t, 10*time.Second, func() (bool, string) {
		st := getSet(t, c, "web").Status
		return st.Replicas == 4 && st.ReadyReplicas == 4 && st.AvailableReplicas == 4 && st.CurrentReplicas == 4 &&
				st.UpdatedReplicas == 4 && st.CurrentRevision != "" && st.CurrentRevision == st.UpdateRevision,
			spf("status %+v; want 4 of everything, current revision = update revision", st)
	})

	editSet(t, c, "web", func(s *apps.StatefulSet) { one := int32(1); s.Spec.Replicas = &one })
	pw.until(25*time.Second, func() bool { return len(pw.pods) == 1 && slices.Equal(pw.healthy("web"), []int{0}) },
		orderedReadyCheck(pw, "web"))
}

func TestStatefulSetParallelCreatesAllPodsAtOnce(t *testing.T) {
	s := apiservertest.Start(t)
	c := s.Client
	startController(t, c) // no agent: no pod ever becomes ready
	set := newSet("web", 3)
	set.Spec.PodManagementPolicy = apps.ParallelPodManagement
	if err := c.Create(context.Background(), set); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, func() (bool, string) {
		st := getSet(t, c, "web").Status
		return st.Replicas == 3 && st.ReadyReplicas == 0, spf("status %+v; want 3 pods, none ready", st)
	})
	editSet(t, c, "web", func(s *apps.StatefulSet) { zero := int32(0); s.Spec.Replicas = &zero })
	waitFor(t, 15*time.Second, func() (bool, string) {
		objs, _, err := c.List(context.Background(), podKind, ns, client.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return len(objs) == 0, spf("%d pods; want none (Parallel deletes unready pods too)", len(objs))
	})
}

func TestStatefulSetRollingUpdateGoesInReverseAndHonoursPartition(t *testing.T) {
	s := apiservertest.Start(t)
	c := s.Client
	ctx := context.Background()
	controllertest.RunAgent(t, c, ns, agent(100*time.Millisecond, nil))
	startController(t, c)
	set := newSet("web", 3)
	one := int32(1)
	set.Spec.UpdateStrategy = apps.StatefulSetUpdateStrategy{Type: apps.RollingUpdateStrategyType,
		RollingUpdate: &apps.RollingUpdateStatefulSetStrategy{Partition: &one}}
	if err := c.Create(ctx, set); err != nil {
		t.Fatal(err)
	}
	var oldRev string
	waitFor(t, 20*time.Second, func() (bool, string) {
		st := getSet(t, c, "web").Status
		oldRev = st.CurrentRevision
		return st.ReadyReplicas == 3 && st.UpdatedReplicas == 3, spf("status %+v; want 3 ready", st)
	})

	pw := watchPods(t, c)
	editSet(t, c, "web", func(s *apps.StatefulSet) { s.Spec.Template.Spec.Containers[0].Image = "img:2" })
	var newRev string
	waitFor(t, 10*time.Second, func() (bool, string) {
		st := getSet(t, c, "web").Status
		newRev = st.UpdateRevision
		return newRev != oldRev && newRev != "", spf("update revision %q; want a new one (old %q)", newRev, oldRev)
	})
	// Reverse order, one pod at a time: a new-revision pod appears only
	// when every higher ordinal is updated and healthy, and at most one
	// pod is ever missing or unhealthy.
	updated := func() []int {
		var out []int
		for _, p := range pw.pods {
			if ord, _ := ordinalOf("web", p.Name); p.Labels[RevisionLabel] == newRev && isHealthy(p) {
				out = append(out, ord)
			}
		}
		slices.Sort(out)
		return out
	}
	pw.until(25*time.Second, func() bool { return slices.Equal(updated(), []int{1, 2}) }, func(typ string, old, cur *core.Pod) error {
		if len(pw.healthy("web")) < 2 {
			return fmt.Errorf("healthy pods %v; want at most one pod down at a time", pw.healthy("web"))
		}
		if old == nil && cur != nil && cur.Labels[RevisionLabel] == newRev {
			n, _ := ordinalOf("web", cur.Name)
			for k := n + 1; k < 3; k++ {
				if p := pw.pods[podName("web", k)]; p == nil || p.Labels[RevisionLabel] != newRev || !isHealthy(p) {
					return fmt.Errorf("%s updated before %s", cur.Name, podName("web", k))
				}
			}
		}
		return nil
	})
	if rev := pw.pods["web-0"].Labels[RevisionLabel]; rev != oldRev {
		t.Fatalf("web-0 revision %s; want %s (below the partition)", rev, oldRev)
	}
	waitFor(t, 10*time.Second, func() (bool, string) {
		st := getSet(t, c, "web").Status
		return st.UpdatedReplicas == 2 && st.CurrentReplicas == 1 && st.CurrentRevision == oldRev,
			spf("status %+v; want 2 updated, 1 current at %s", st, oldRev)
	})

	// Below the partition, a deleted pod comes back at the old revision.
	if err := c.Delete(ctx, podKind, ns, "web-0", nil); err != nil {
		t.Fatal(err)
	}
	oldUID := pw.pods["web-0"].UID
	pw.until(20*time.Second, func() bool {
		p := pw.pods["web-0"]
		return p != nil && p.UID != oldUID && isHealthy(p)
	}, nil)
	if rev := pw.pods["web-0"].Labels[RevisionLabel]; rev != oldRev {
		t.Fatalf("re-created web-0 at revision %s; want %s (below the partition)", rev, oldRev)
	}

	// Partition 0 finishes the update.
	editSet(t, c, "web", func(s *apps.StatefulSet) {
		zero := int32(0)
		s.Spec.UpdateStrategy.RollingUpdate.Partition = &zero
	})
	waitFor(t, 20*time.Second, func() (bool, string) {
		st := getSet(t, c, "web").Status
		return st.UpdatedReplicas == 3 && st.ReadyReplicas == 3 && st.CurrentRevision == newRev,
			spf("status %+v; want 3 updated and ready, current revision %s", st, newRev)
	})
}

func TestStatefulSetClaimsOutliveTheirPods(t *testing.T) {
	s := apiservertest.Start(t)
	c := s.Client
	ctx := context.Background()
	controllertest.RunAgent(t, c, ns, agent(0, nil))
	startController(t, c)
	set := newSet("web", 2)
	set.Spec.VolumeClaimTemplates = []core.PersistentVolumeClaim{{
		ObjectMeta: meta.ObjectMeta{Name: "data"},
		Spec: core.PersistentVolumeClaimSpec{AccessModes: []string{core.ReadWriteOnce},
			Resources: core.VolumeResourceRequirements{Requests: core.ResourceList{core.ResourceStorage: resource.MustParse("1Gi")}}},
	}}
	if err := c.Create(ctx, set); err != nil {
		t.Fatal(err)
	}
	claimUIDs := func() map[string]string {
		objs, _, err := c.List(ctx, claimKind, ns, client.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, o := range objs {
			out[o.GetObjectMeta().Name] = o.GetObjectMeta().UID
		}
		return out
	}
	// waitPods waits for n ready pods, each mounting its own claim.
	waitPods := func(n int) {
		t.Helper()
		waitFor(t, 20*time.Second, func() (bool, string) {
			objs, _, err := c.List(ctx, podKind, ns, client.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var desc []string
			ok := len(objs) == n
			for _, o := range objs {
				p := o.(*core.Pod)
				claim := ""
				for _, v := range p.Spec.Volumes {
					if v.Name == "data" && v.PersistentVolumeClaim != nil {
						claim = v.PersistentVolumeClaim.ClaimName
					}
				}
				ok = ok && claim == "data-"+p.Name && isHealthy(p)
				desc = append(desc, spf("%s(claim %q, healthy %v)", p.Name, claim, isHealthy(p)))
			}
			return ok, spf("pods %v; want %d healthy pods, each with volume data = claim data-<pod>", desc, n)
		})
	}
	waitPods(2)
	first := claimUIDs()
	if len(first) != 2 || first["data-web-0"] == "" || first["data-web-1"] == "" {
		t.Fatalf("claims %v; want data-web-0 and data-web-1", first)
	}

	sameClaims := func(when string) {
		t.Helper()
		if got := claimUIDs(); !mapsEqual(got, first) {
			t.Fatalf("claims %v %s; want the same claims %v", got, when, first)
		}
	}
	var p core.Pod
	if err := c.Get(ctx, ns, "web-0", &p); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, podKind, ns, "web-0", nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, func() (bool, string) {
		var q core.Pod
		err := c.Get(ctx, ns, "web-0", &q)
		return err == nil && q.UID != p.UID && isHealthy(&q), spf("web-0 (err %v); want a new healthy web-0", err)
	})
	sameClaims("after web-0 was deleted and re-created")

	editSet(t, c, "web", func(s *apps.StatefulSet) { zero := int32(0); s.Spec.Replicas = &zero })
	waitPods(0)
	sameClaims("after scaling to 0")
	editSet(t, c, "web", func(s *apps.StatefulSet) { two := int32(2); s.Spec.Replicas = &two })
	waitPods(2)
	sameClaims("after scaling back to 2")
}

// TestStatefulSetNeverRunsTwoPodsOfOneIdentity stops the node agent (as
// if node-1 stopped heartbeating) and deletes web-1, as the node
// lifecycle controller's eviction would. The pod stays Terminating: no
// agent confirms its containers stopped. The controller must not replace
// it (nor remove it) while it is Terminating, and must replace it as soon
// as an operator force-deletes it.
func TestStatefulSetNeverRunsTwoPodsOfOneIdentity(t *testing.T) {
	s := apiservertest.Start(t)
	c := s.Client
	ctx := context.Background()
	var nodeDown atomic.Bool
	controllertest.RunAgent(t, c, ns, agent(0, func(*core.Pod) bool { return !nodeDown.Load() }))
	startController(t, c)
	if err := c.Create(ctx, newSet("web", 3)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, func() (bool, string) {
		st := getSet(t, c, "web").Status
		return st.ReadyReplicas == 3, spf("status %+v; want 3 ready", st)
	})

	nodeDown.Store(true)
	pw := watchPods(t, c)
	stuck := pw.pods["web-1"]
	if err := c.Delete(ctx, podKind, ns, "web-1", nil); err != nil {
		t.Fatal(err)
	}
	atMostOne := func(typ string, old, cur *core.Pod) error {
		if old != nil && old.UID == stuck.UID && cur == nil {
			return fmt.Errorf("the terminating web-1 was removed; only its node agent or an operator may")
		}
		if cur != nil && cur.Name == "web-1" && cur.UID != stuck.UID {
			return fmt.Errorf("a second web-1 (uid %s) appeared while %s is terminating", cur.UID, stuck.UID)
		}
		return nil
	}
	// The status excludes terminating pods from currentReplicas, so once
	// it says 2 the controller has synced with web-1 terminating; every
	// event until then and for two seconds more is checked.
	waitFor(t, 20*time.Second, func() (bool, string) {
		st := getSet(t, c, "web").Status
		return st.CurrentReplicas == 2, spf("status %+v; want currentReplicas 2 (web-1 terminating)", st)
	})
	quiet := time.Now().Add(2 * time.Second)
	pw.until(10*time.Second, func() bool { return time.Now().After(quiet) }, atMostOne)
	if p := pw.pods["web-1"]; p == nil || p.UID != stuck.UID || !isTerminating(p) {
		t.Fatalf("web-1 is %+v; want the original, still terminating", p)
	}

	// The operator: kubectl delete pod web-1 --grace-period=0 --force.
	zero := int64(0)
	if err := c.Delete(ctx, podKind, ns, "web-1", &meta.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	nodeDown.Store(false)
	pw.until(20*time.Second, func() bool {
		p := pw.pods["web-1"]
		return p != nil && p.UID != stuck.UID && isHealthy(p)
	}, nil)
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
