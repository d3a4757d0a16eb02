package deployment

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/apps"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/intstr"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/apiserver/apiservertest"
	"minik8s/pkg/client"
	"minik8s/pkg/client/events"
	"minik8s/pkg/controllers/controllertest"
	"minik8s/pkg/controllers/replicaset"
)

// These tests run the Deployment controller with the ReplicaSet
// controller against a real API server on embedded etcd; pods are only
// objects, marked Running and Ready by controllertest.MarkPodsReady.

const ns = "default"

// startControllers runs the ReplicaSet and Deployment controllers on one
// informer factory until the test ends.
func startControllers(t *testing.T, c *client.Client) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f := client.NewFactory(c, 0)
	rsRec := events.New(c, "replicaset-controller", "test")
	dRec := events.New(c, "deployment-controller", "test")
	rsc := replicaset.New(c, f, rsRec)
	dc := New(c, f, dRec)
	f.Start(ctx)
	go rsRec.Run(ctx)
	go dRec.Run(ctx)
	done := make(chan struct{}, 2)
	go func() { rsc.Run(ctx, 2); done <- struct{}{} }()
	go func() { dc.Run(ctx, 2); done <- struct{}{} }()
	t.Cleanup(func() {
		cancel()
		<-done
		<-done
		f.Wait()
	})
}

// setup starts an API server, the node agent stand-in a and the
// controllers.
func setup(t *testing.T, a controllertest.Agent) *client.Client {
	s := apiservertest.Start(t)
	controllertest.RunAgent(t, s.Client, ns, a)
	startControllers(t, s.Client)
	return s.Client
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

func newDeployment(name string, n int32, image string) *apps.Deployment {
	return &apps.Deployment{
		ObjectMeta: meta.ObjectMeta{Name: name, Namespace: ns},
		Spec: apps.DeploymentSpec{
			Replicas: &n,
			Selector: &meta.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: core.PodTemplateSpec{
				ObjectMeta: meta.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:       core.PodSpec{Containers: []core.Container{{Name: "c", Image: image}}},
			},
		},
	}
}

func getDeployment(t *testing.T, c *client.Client, name string) *apps.Deployment {
	t.Helper()
	var d apps.Deployment
	if err := c.Get(context.Background(), ns, name, &d); err != nil {
		t.Fatal(err)
	}
	return &d
}

// change applies edit to the stored Deployment, retrying on conflicts
// (the controller writes it too).
func change(t *testing.T, c *client.Client, name string, edit func(*apps.Deployment)) {
	t.Helper()
	for range 20 {
		d := getDeployment(t, c, name)
		edit(d)
		err := c.Update(context.Background(), d)
		if err == nil {
			return
		}
		if !errors.Is(err, apierrors.ErrConflict) {
			t.Fatal(err)
		}
	}
	t.Fatalf("could not update %s: conflicts", name)
}

func setImage(image string) func(*apps.Deployment) {
	return func(d *apps.Deployment) { d.Spec.Template.Spec.Containers[0].Image = image }
}

// rolloutDone is kubectl rollout status's rule for a finished rollout.
func rolloutDone(d *apps.Deployment) (bool, string) {
	st, n := d.Status, replicas(d)
	ok := st.ObservedGeneration >= d.Generation && st.UpdatedReplicas == n && st.Replicas == n && st.AvailableReplicas == n
	return ok, fmt.Sprintf("generation %d, status %+v; want observedGeneration >= generation and updated = replicas = available = %d",
		d.Generation, st, n)
}

// waitRolledOut waits until the rollout is done and every active pod runs
// image.
func waitRolledOut(t *testing.T, c *client.Client, name, image string) *apps.Deployment {
	t.Helper()
	var d *apps.Deployment
	waitFor(t, 25*time.Second, func() (bool, string) {
		d = getDeployment(t, c, name)
		if ok, desc := rolloutDone(d); !ok {
			return false, desc
		}
		pods := activePods(t, c, name)
		for _, p := range pods {
			if p.Spec.Containers[0].Image != image {
				return false, fmt.Sprintf("pod %s runs %s; want %s", p.Name, p.Spec.Containers[0].Image, image)
			}
		}
		return len(pods) == int(replicas(d)), fmt.Sprintf("%d active pods; want %d", len(pods), replicas(d))
	})
	return d
}

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

// isActive is the ReplicaSet controller's notion: not terminating, not
// finished.
func isActive(p *core.Pod) bool {
	return p.DeletionTimestamp == nil && p.Status.Phase != core.PodFailed && p.Status.Phase != core.PodSucceeded
}

func replicaSets(t *testing.T, c *client.Client) []*apps.ReplicaSet {
	t.Helper()
	objs, _, err := c.List(context.Background(), rsKind, ns, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []*apps.ReplicaSet
	for _, o := range objs {
		out = append(out, o.(*apps.ReplicaSet))
	}
	return out
}

func rsFor(rss []*apps.ReplicaSet, image string) *apps.ReplicaSet {
	for _, rs := range rss {
		if rs.Spec.Template.Spec.Containers[0].Image == image {
			return rs
		}
	}
	return nil
}

// podWatch lists the pods of the namespace, then watches them from the
// list's resourceVersion and calls check with every pod that exists
// (terminating and finished ones included) after every event. stop ends
// the watch and returns check's first error, if any.
func podWatch(t *testing.T, c *client.Client, check func(existing map[string]*core.Pod) error) (stop func() error) {
	t.Helper()
	rv, existing := listPods(t, c)
	ctx, cancel := context.WithCancel(context.Background())
	w, err := c.Watch(ctx, podKind, ns, client.ListOptions{ResourceVersion: rv})
	if err != nil {
		t.Fatal(err)
	}
	result := make(chan error, 1)
	go func() {
		events := 0
		for ev := range w.ResultChan() {
			p, ok := ev.Object.(*core.Pod)
			if !ok {
				continue
			}
			events++
			if ev.Type == meta.Deleted {
				delete(existing, p.Name)
			} else {
				existing[p.Name] = p
			}
			if err := check(existing); err != nil {
				result <- fmt.Errorf("at pod watch event %d (%s %s): %w", events, ev.Type, p.Name, err)
				return
			}
		}
		result <- nil
	}()
	return func() error {
		cancel()
		return <-result
	}
}

// listPods returns the pods and the list's resourceVersion.
func listPods(t *testing.T, c *client.Client) (string, map[string]*core.Pod) {
	t.Helper()
	objs, rv, err := c.List(context.Background(), podKind, ns, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]*core.Pod{}
	for _, o := range objs {
		p := o.(*core.Pod)
		m[p.Name] = p
	}
	return rv, m
}

func TestRollingUpdateStaysWithinMaxSurgeAndMaxUnavailableAtEveryPodEvent(t *testing.T) {
	c := setup(t, controllertest.Agent{ReadyAfter: 150 * time.Millisecond})
	ctx := context.Background()
	d := newDeployment("web", 4, "img:A")
	surge, unavailable := intstr.FromInt(1), intstr.FromInt(1)
	d.Spec.Strategy = apps.DeploymentStrategy{Type: apps.RollingUpdateDeploymentStrategyType,
		RollingUpdate: &apps.RollingUpdateDeployment{MaxSurge: &surge, MaxUnavailable: &unavailable}}
	if err := c.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	waitRolledOut(t, c, "web", "img:A")

	const maxPods, minReady = 4 + 1, 4 - 1
	sawSurge := false
	stop := podWatch(t, c, func(existing map[string]*core.Pod) error {
		active, ready := 0, 0
		for _, p := range existing {
			if isActive(p) {
				active++
				if controllertest.IsReady(p) {
					ready++
				}
			}
		}
		if active > maxPods {
			return fmt.Errorf("%d active pods; want at most replicas + maxSurge = %d", active, maxPods)
		}
		if ready < minReady {
			return fmt.Errorf("%d ready pods; want at least replicas - maxUnavailable = %d", ready, minReady)
		}
		sawSurge = sawSurge || active == maxPods
		return nil
	})
	change(t, c, "web", setImage("img:B"))
	final := waitRolledOut(t, c, "web", "img:B")
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if final.Annotations[RevisionAnnotation] != "2" {
		t.Errorf("deployment revision: got %q; want 2", final.Annotations[RevisionAnnotation])
	}
	if final.Status.UnavailableReplicas != 0 || final.Status.ReadyReplicas != 4 {
		t.Errorf("final status %+v; want 4 ready and 0 unavailable", final.Status)
	}
	if c := getCondition(&final.Status, apps.DeploymentProgressing); c == nil || c.Reason != reasonNewRSAvailable {
		t.Errorf("Progressing condition: got %+v; want reason %s", c, reasonNewRSAvailable)
	}
	if c := getCondition(&final.Status, apps.DeploymentAvailable); c == nil || c.Status != core.ConditionTrue {
		t.Errorf("Available condition: got %+v; want True", c)
	}
	rss := replicaSets(t, c)
	a, b := rsFor(rss, "img:A"), rsFor(rss, "img:B")
	if a == nil || b == nil || rsReplicas(a) != 0 || rsReplicas(b) != 4 {
		t.Fatalf("replica sets: want img:A at 0 and img:B at 4; got %d sets", len(rss))
	}
	if want := "web-" + b.Labels[PodTemplateHashLabel]; b.Name != want {
		t.Errorf("new replica set name: got %s; want %s", b.Name, want)
	}
	if b.Annotations[DesiredReplicasAnnotation] != "4" || b.Annotations[MaxReplicasAnnotation] != "5" {
		t.Errorf("new replica set annotations %v; want desired-replicas 4, max-replicas 5", b.Annotations)
	}
	if !sawSurge {
		t.Log("note: the rollout never used its full surge")
	}
}

func TestRecreateNeverRunsOldAndNewPodsTogether(t *testing.T) {
	// Bound pods terminate slowly, as real ones do: the window in which
	// starting new pods too early would overlap is wide.
	c := setup(t, controllertest.Agent{ReadyAfter: 50 * time.Millisecond, NodeName: "node-1", TerminateAfter: 500 * time.Millisecond})
	ctx := context.Background()
	d := newDeployment("web", 3, "img:A")
	d.Spec.Strategy = apps.DeploymentStrategy{Type: apps.RecreateDeploymentStrategyType}
	if err := c.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	waitRolledOut(t, c, "web", "img:A")

	stop := podWatch(t, c, func(existing map[string]*core.Pod) error {
		// Terminating pods count too: their containers may still run.
		images := map[string]int{}
		for _, p := range existing {
			if p.Status.Phase != core.PodFailed && p.Status.Phase != core.PodSucceeded {
				images[p.Spec.Containers[0].Image]++
			}
		}
		if images["img:A"] > 0 && images["img:B"] > 0 {
			return fmt.Errorf("old and new pods together: %v", images)
		}
		return nil
	})
	change(t, c, "web", setImage("img:B"))
	waitRolledOut(t, c, "web", "img:B")
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestPauseStopsTheRolloutButNotScalingAndResumeFinishesIt(t *testing.T) {
	c := setup(t, controllertest.Agent{})
	ctx := context.Background()
	if err := c.Create(ctx, newDeployment("web", 2, "img:A")); err != nil {
		t.Fatal(err)
	}
	waitRolledOut(t, c, "web", "img:A")

	change(t, c, "web", func(d *apps.Deployment) {
		d.Spec.Paused = true
		d.Spec.Template.Spec.Containers[0].Image = "img:B"
		three := int32(3)
		d.Spec.Replicas = &three
	})
	// Once the controller has observed the paused spec it has decided;
	// scaling applies to the current (old) template.
	waitFor(t, 20*time.Second, func() (bool, string) {
		d := getDeployment(t, c, "web")
		cond := getCondition(&d.Status, apps.DeploymentProgressing)
		pods := activePods(t, c, "web")
		return d.Status.ObservedGeneration >= d.Generation && cond != nil && cond.Reason == reasonPaused &&
				d.Status.AvailableReplicas == 3 && len(pods) == 3,
			fmt.Sprintf("status %+v, %d pods; want the paused condition and 3 available pods", d.Status, len(pods))
	})
	for _, p := range activePods(t, c, "web") {
		if img := p.Spec.Containers[0].Image; img != "img:A" {
			t.Fatalf("paused deployment has a pod with %s; want only img:A", img)
		}
	}
	if rss := replicaSets(t, c); len(rss) != 1 {
		t.Fatalf("paused deployment has %d replica sets; want 1 (no rollout)", len(rss))
	}

	change(t, c, "web", func(d *apps.Deployment) { d.Spec.Paused = false })
	waitRolledOut(t, c, "web", "img:B")
}

func TestRollbackReusesTheOldReplicaSetAndMovesItToTheNewestRevision(t *testing.T) {
	c := setup(t, controllertest.Agent{})
	ctx := context.Background()
	if err := c.Create(ctx, newDeployment("web", 2, "img:A")); err != nil {
		t.Fatal(err)
	}
	waitRolledOut(t, c, "web", "img:A")
	change(t, c, "web", setImage("img:B"))
	waitRolledOut(t, c, "web", "img:B")
	rss := replicaSets(t, c)
	a := rsFor(rss, "img:A")
	if a == nil || a.Annotations[RevisionAnnotation] != "1" || rsFor(rss, "img:B").Annotations[RevisionAnnotation] != "2" {
		t.Fatalf("want img:A at revision 1 and img:B at revision 2")
	}

	// What kubectl rollout undo sends: a JSON patch replacing the
	// template with the old ReplicaSet's, minus its pod-template-hash.
	tmpl, _ := meta.DeepCopy(&a.Spec.Template)
	delete(tmpl.Labels, PodTemplateHashLabel)
	patch := fmt.Sprintf(`[{"op":"replace","path":"/spec/template","value":%s}]`, templateJSON(tmpl))
	var out apps.Deployment
	if err := c.Patch(ctx, ns, "web", client.JSONPatch, []byte(patch), &out); err != nil {
		t.Fatal(err)
	}
	d := waitRolledOut(t, c, "web", "img:A")

	rss = replicaSets(t, c)
	if len(rss) != 2 {
		t.Fatalf("%d replica sets after rollback; want 2 (the old one reused)", len(rss))
	}
	a = rsFor(rss, "img:A")
	if a.Annotations[RevisionAnnotation] != "3" || a.Annotations[RevisionHistoryAnnotation] != "1" {
		t.Errorf("rolled-back replica set annotations %v; want revision 3, revision-history 1", a.Annotations)
	}
	if d.Annotations[RevisionAnnotation] != "3" {
		t.Errorf("deployment revision %q; want 3", d.Annotations[RevisionAnnotation])
	}
}

func TestRevisionHistoryLimitDeletesTheOldestReplicaSets(t *testing.T) {
	c := setup(t, controllertest.Agent{})
	ctx := context.Background()
	d := newDeployment("web", 1, "img:A")
	one := int32(1)
	d.Spec.RevisionHistoryLimit = &one
	if err := c.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	waitRolledOut(t, c, "web", "img:A")
	for _, img := range []string{"img:B", "img:C"} {
		change(t, c, "web", setImage(img))
		waitRolledOut(t, c, "web", img)
	}
	waitFor(t, 10*time.Second, func() (bool, string) {
		rss := replicaSets(t, c)
		var imgs []string
		for _, rs := range rss {
			imgs = append(imgs, rs.Spec.Template.Spec.Containers[0].Image)
		}
		return len(rss) == 2 && rsFor(rss, "img:A") == nil,
			fmt.Sprintf("replica sets for %s; want img:B and img:C only", strings.Join(imgs, ", "))
	})
}

func TestProgressDeadlineExceededWhenPodsNeverBecomeReady(t *testing.T) {
	s := apiservertest.Start(t)
	c := s.Client
	startControllers(t, c) // no node agent: pods stay Pending
	d := newDeployment("web", 2, "img:A")
	two := int32(2)
	d.Spec.ProgressDeadlineSeconds = &two
	if err := c.Create(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, func() (bool, string) {
		d := getDeployment(t, c, "web")
		cond := getCondition(&d.Status, apps.DeploymentProgressing)
		return cond != nil && cond.Status == core.ConditionFalse && cond.Reason == reasonTimedOut,
			fmt.Sprintf("Progressing condition %+v; want False/%s", cond, reasonTimedOut)
	})
	d = getDeployment(t, c, "web")
	if cond := getCondition(&d.Status, apps.DeploymentAvailable); cond == nil || cond.Status != core.ConditionFalse || cond.Reason != reasonMinimumUnavailabe {
		t.Errorf("Available condition %+v; want False/%s", cond, reasonMinimumUnavailabe)
	}
}

func TestScalingEventRecordsScalingReplicaSet(t *testing.T) {
	c := setup(t, controllertest.Agent{})
	ctx := context.Background()
	if err := c.Create(ctx, newDeployment("web", 3, "img:A")); err != nil {
		t.Fatal(err)
	}
	waitRolledOut(t, c, "web", "img:A")
	// kubectl scale: only spec.replicas changes.
	change(t, c, "web", func(d *apps.Deployment) { five := int32(5); d.Spec.Replicas = &five })
	waitRolledOut(t, c, "web", "img:A")

	name := replicaSets(t, c)[0].Name
	eventKind := mustKind("", "events")
	want := []string{
		fmt.Sprintf("Scaled up replica set %s from 0 to 3", name),
		fmt.Sprintf("Scaled up replica set %s from 3 to 5", name),
	}
	waitFor(t, 10*time.Second, func() (bool, string) {
		objs, _, err := c.List(ctx, eventKind, ns, client.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		var msgs []string
		for _, o := range objs {
			ev := o.(*core.Event)
			if ev.Reason == "ScalingReplicaSet" && ev.InvolvedObject.Kind == "Deployment" {
				got[ev.Message] = true
				msgs = append(msgs, ev.Message)
			}
		}
		return got[want[0]] && got[want[1]], fmt.Sprintf("ScalingReplicaSet events %q; want %q", msgs, want)
	})
}
