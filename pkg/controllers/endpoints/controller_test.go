package endpoints

import (
	"context"
	"errors"
	"testing"
	"time"

	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/intstr"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/apiserver/apiservertest"
	"minik8s/pkg/client"
	"minik8s/pkg/client/events"
)

// These tests run the controller against a real API server on embedded
// etcd. Pods are only objects; the test plays the node agent by writing
// their status (IP, readiness) itself.

func startController(t *testing.T, c *client.Client) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f := client.NewFactory(c, 0)
	rec := events.New(c, "endpoint-controller", "test")
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

// runPod creates a pod labelled app=web and gives it ip and readiness, as
// a node agent would.
func runPod(t *testing.T, c *client.Client, name, ip string, ready bool) *core.Pod {
	t.Helper()
	ctx := context.Background()
	p := &core.Pod{
		ObjectMeta: meta.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": "web"}},
		Spec: core.PodSpec{Containers: []core.Container{{Name: "c", Image: "test",
			Ports: []core.ContainerPort{{Name: "http", ContainerPort: 8080}}}}},
	}
	if err := c.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	setStatus(t, c, p, ip, ready)
	return p
}

func setStatus(t *testing.T, c *client.Client, p *core.Pod, ip string, ready bool) {
	t.Helper()
	status := core.ConditionFalse
	if ready {
		status = core.ConditionTrue
	}
	for {
		var cur core.Pod
		if err := c.Get(context.Background(), p.Namespace, p.Name, &cur); err != nil {
			t.Fatal(err)
		}
		cur.Status.Phase, cur.Status.PodIP = core.PodRunning, ip
		cur.Status.Conditions = []core.PodCondition{{Type: core.PodReady, Status: status}}
		err := c.UpdateStatus(context.Background(), &cur)
		if !errors.Is(err, apierrors.ErrConflict) {
			if err != nil {
				t.Fatal(err)
			}
			return
		}
	}
}

// waitSubsets waits until the Endpoints web renders as want (see short).
func waitSubsets(t *testing.T, c *client.Client, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	got := "<none>"
	for time.Now().Before(deadline) {
		var ep core.Endpoints
		err := c.Get(context.Background(), "default", "web", &ep)
		if err == nil {
			got = short(ep.Subsets)
			if got == want {
				return
			}
		} else if !errors.Is(err, apierrors.ErrNotFound) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("endpoints web: got %q; want %q", got, want)
}

func TestEndpointsFollowPods(t *testing.T) {
	s := apiservertest.Start(t)
	c := s.Client
	ctx := context.Background()
	startController(t, c)
	service := &core.Service{ObjectMeta: meta.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: core.ServiceSpec{Selector: map[string]string{"app": "web"},
			Ports: []core.ServicePort{{Port: 80, TargetPort: intstr.FromString("http")}}}}
	if err := c.Create(ctx, service); err != nil {
		t.Fatal(err)
	}
	waitSubsets(t, c, "")
	a := runPod(t, c, "a", "10.1.0.1", true)
	runPod(t, c, "b", "10.1.0.2", false)
	waitSubsets(t, c, "[10.1.0.1 | 10.1.0.2 : /8080]")

	setStatus(t, c, a, "10.1.0.1", false) // a fails its readiness probe
	waitSubsets(t, c, "[| 10.1.0.1 10.1.0.2 : /8080]")

	// Deleting a pod (unbound, so at once) takes it out.
	podKind := mustKind("pods")
	if err := c.Delete(ctx, podKind, "default", "b", nil); err != nil {
		t.Fatal(err)
	}
	waitSubsets(t, c, "[| 10.1.0.1 : /8080]")

	// Someone overwrites the Endpoints: the controller puts it back.
	var ep core.Endpoints
	if err := c.Get(ctx, "default", "web", &ep); err != nil {
		t.Fatal(err)
	}
	ep.Subsets = nil
	if err := c.Update(ctx, &ep); err != nil {
		t.Fatal(err)
	}
	waitSubsets(t, c, "[| 10.1.0.1 : /8080]")

	// The Endpoints goes with its Service.
	if err := c.Delete(ctx, serviceKind, "default", "web", nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := c.Get(ctx, "default", "web", &ep)
		if errors.Is(err, apierrors.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("endpoints after the service was deleted: got %v; want not found", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServiceWithoutSelectorIsLeftAlone: hand-written Endpoints of a
// Service without selector are not touched (the kubernetes Service is one).
func TestServiceWithoutSelectorIsLeftAlone(t *testing.T) {
	s := apiservertest.Start(t)
	c := s.Client
	ctx := context.Background()
	ext := &core.Service{ObjectMeta: meta.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: core.ServiceSpec{Ports: []core.ServicePort{{Port: 80}}}}
	if err := c.Create(ctx, ext); err != nil {
		t.Fatal(err)
	}
	manual := &core.Endpoints{ObjectMeta: meta.ObjectMeta{Name: "web", Namespace: "default"},
		Subsets: []core.EndpointSubset{{Addresses: []core.EndpointAddress{{IP: "192.0.2.7"}}, Ports: []core.EndpointPort{{Port: 80}}}}}
	if err := c.Create(ctx, manual); err != nil {
		t.Fatal(err)
	}
	startController(t, c)
	runPod(t, c, "a", "10.1.0.1", true)
	time.Sleep(300 * time.Millisecond)
	waitSubsets(t, c, "[192.0.2.7 | : /80]")
}
