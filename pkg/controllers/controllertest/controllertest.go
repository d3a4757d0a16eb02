// Package controllertest holds what controller tests share: a stand-in
// for the node agent that marks pods Running and Ready, so that workload
// controllers can be tested against a real API server without nodes,
// containerd or a scheduler.
//
// By default it never binds pods, so deleting one is immediate (the API
// server only waits for a node agent when the pod is bound). With
// Agent.NodeName it binds them, and deleted pods then stay terminating
// until the stand-in removes them, as a real node agent would once their
// containers stopped.
package controllertest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/client"
	"minik8s/pkg/client/workqueue"
)

// Agent says how the stand-in node agent behaves.
type Agent struct {
	// ReadyAfter is how long after first seeing a pod the agent marks it
	// Running and Ready.
	ReadyAfter time.Duration
	// NodeName, if set, is the node the agent binds each unbound pod to
	// (no Node object is needed) before marking it ready.
	NodeName string
	// TerminateAfter is how long a terminating pod bound to NodeName
	// lingers before the agent deletes it for good (grace period 0).
	TerminateAfter time.Duration
	// Serves, if set, says which pods this agent looks after; the others
	// are left alone, as if their node's agent were gone.
	Serves func(pod *core.Pod) bool
}

// MarkPodsReady runs an Agent that marks every pod of namespace Running
// and Ready readyAfter after it appears, until the test ends.
func MarkPodsReady(t testing.TB, c *client.Client, namespace string, readyAfter time.Duration) {
	t.Helper()
	RunAgent(t, c, namespace, Agent{ReadyAfter: readyAfter})
}

var podKind, _ = apis.ByResource("", "pods")

// RunAgent plays the node agent a for every pod of namespace until the
// test ends. It returns at once; its goroutines stop, and are waited for,
// in t.Cleanup.
func RunAgent(t testing.TB, c *client.Client, namespace string, a Agent) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	inf := client.NewInformer(c.ListWatch(podKind, namespace, client.ListOptions{}), 0)
	q := workqueue.New("test-node-agent")
	enqueue := func(obj meta.Object) {
		pod := obj.(*core.Pod)
		switch {
		case pod.DeletionTimestamp != nil:
			q.AddAfter(client.KeyOf(pod), a.TerminateAfter)
		case !IsReady(pod):
			q.AddAfter(client.KeyOf(pod), a.ReadyAfter)
		}
	}
	inf.AddEventHandler(client.Handler{OnAdd: enqueue, OnUpdate: func(_, obj meta.Object) { enqueue(obj) }})

	var wg sync.WaitGroup
	wg.Go(func() { inf.Run(ctx) })
	wg.Go(func() {
		if inf.WaitForSync(ctx) {
			workqueue.Run(ctx, q, 2, func(ctx context.Context, key string) error {
				return a.sync(ctx, c, inf, key)
			})
		}
	})
	t.Cleanup(func() {
		cancel()
		q.ShutDown()
		wg.Wait()
	})
}

// sync converges one pod: a terminating pod is removed, an unbound one
// bound (if a.NodeName is set), a not-ready one marked ready.
func (a Agent) sync(ctx context.Context, c *client.Client, inf *client.Informer, key string) error {
	obj, ok := inf.Store().Get(key)
	if !ok {
		return nil
	}
	pod := obj.(*core.Pod)
	if a.Serves != nil && !a.Serves(pod) {
		return nil
	}
	var err error
	switch {
	case pod.DeletionTimestamp != nil:
		err = removePod(ctx, c, pod)
	case a.NodeName != "" && pod.Spec.NodeName == "":
		err = bind(ctx, c, pod, a.NodeName) // the update requeues the pod
	case !IsReady(pod):
		err = markReady(ctx, c, pod)
	}
	if errors.Is(err, apierrors.ErrNotFound) {
		return nil
	}
	return err
}

func removePod(ctx context.Context, c *client.Client, pod *core.Pod) error {
	zero, uid := int64(0), pod.UID
	return c.Delete(ctx, podKind, pod.Namespace, pod.Name,
		&meta.DeleteOptions{GracePeriodSeconds: &zero, Preconditions: &meta.Preconditions{UID: &uid}})
}

func bind(ctx context.Context, c *client.Client, pod *core.Pod, node string) error {
	b := core.Binding{TypeMeta: meta.TypeMeta{APIVersion: "v1", Kind: "Binding"},
		ObjectMeta: meta.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID},
		Target:     core.ObjectReference{Kind: "Node", Name: node}}
	body, err := json.Marshal(&b)
	if err != nil {
		return err
	}
	err = c.Do(ctx, http.MethodPost, client.Path(podKind, pod.Namespace, pod.Name, "binding"), nil, "application/json", body, nil)
	if errors.Is(err, apierrors.ErrConflict) {
		return nil // bound already, or terminating: the next event says which
	}
	return err
}

// markReady sets the pod's phase to Running and its conditions to ready,
// on a fresh copy, unless the pod started terminating meanwhile.
func markReady(ctx context.Context, c *client.Client, cached *core.Pod) error {
	var pod core.Pod
	if err := c.Get(ctx, cached.Namespace, cached.Name, &pod); err != nil {
		return err
	}
	if pod.DeletionTimestamp != nil || pod.UID != cached.UID {
		return nil
	}
	now := meta.Now()
	pod.Status.Phase = core.PodRunning
	pod.Status.StartTime = &now
	pod.Status.Conditions = []core.PodCondition{
		{Type: core.PodScheduled, Status: core.ConditionTrue, LastTransitionTime: now},
		{Type: core.PodInitialized, Status: core.ConditionTrue, LastTransitionTime: now},
		{Type: core.PodContainersReady, Status: core.ConditionTrue, LastTransitionTime: now},
		{Type: core.PodReady, Status: core.ConditionTrue, LastTransitionTime: now},
	}
	return c.UpdateStatus(ctx, &pod)
}

// IsReady says whether pod's Ready condition is True.
func IsReady(pod *core.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == core.PodReady {
			return c.Status == core.ConditionTrue
		}
	}
	return false
}
