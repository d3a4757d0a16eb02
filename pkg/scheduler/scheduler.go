package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/client"
	"minik8s/pkg/client/events"
	"minik8s/pkg/client/leaderelection"
)

// Config configures a Scheduler. The zero value of every field but Server
// means its default.
type Config struct {
	// Server is the API server's URL.
	Server string
	// Kubeconfig, when set, is used instead of Server (credentials, CA).
	Kubeconfig string
	// SchedulerName: the scheduler handles the pods whose
	// spec.schedulerName is this (default "default-scheduler").
	SchedulerName string
	// Score is the resource strategy: most-allocated (default),
	// least-allocated or balanced.
	Score string
	// LeaderElect makes replicas take turns through the Lease
	// kube-system/LeaseName, so only one schedules at a time.
	LeaderElect bool
	LeaseName   string // default "minik8s-scheduler"
	// Identity names this replica in the Lease (default host_pid_random).
	Identity string
	// LeaseDuration, RenewDeadline, RetryPeriod: see leaderelection.Config.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// Listen is where /healthz and /metrics are served ("" for nowhere).
	Listen string
	// Binders is how many bindings may be in flight at once (default 32).
	Binders int
	// Seed seeds the tie-breaking randomness (0: random).
	Seed uint64
	// InitialBackoff and MaxBackoff bound a pod's retry backoff
	// (default 1 s and 10 s).
	InitialBackoff, MaxBackoff time.Duration
}

// Validate fills in defaults and checks the Config.
func (c *Config) Validate() error {
	if c.Server == "" {
		return errors.New("--server is required: the API server's URL, e.g. http://127.0.0.1:6443")
	}
	if c.SchedulerName == "" {
		c.SchedulerName = core.DefaultSchedulerName
	}
	if _, err := Scorers(c.Score); err != nil {
		return err
	}
	if c.Score == "" {
		c.Score = MostAllocated
	}
	if c.LeaseName == "" {
		c.LeaseName = "minik8s-scheduler"
	}
	if c.Identity == "" {
		host, _ := os.Hostname()
		c.Identity = fmt.Sprintf("%s_%d_%x", host, os.Getpid(), rand.Uint32())
	}
	if c.Binders <= 0 {
		c.Binders = 32
	}
	if c.InitialBackoff <= 0 {
		c.InitialBackoff = time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 10 * time.Second
	}
	if c.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Listen); err != nil {
			return fmt.Errorf("--listen %q is not HOST:PORT: %w", c.Listen, err)
		}
	}
	return nil
}

// Scheduler is one scheduler replica. Build it with New, start it with
// Run.
type Scheduler struct {
	cfg     Config
	client  *client.Client
	profile *Profile
	metrics metrics
}

// New returns a Scheduler for cfg, after validating it.
func New(cfg Config) (*Scheduler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c, err := client.NewFrom(cfg.Server, cfg.Kubeconfig)
	if err != nil {
		return nil, err
	}
	c.UserAgent = "minik8s-scheduler"
	prof, err := NewProfile(cfg.Score)
	if err != nil {
		return nil, err
	}
	return &Scheduler{cfg: cfg, client: c, profile: prof}, nil
}

// Handler serves /healthz and /metrics.
func (s *Scheduler) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) { s.metrics.write(w) })
	return mux
}

// Run schedules pods until ctx is done (with leader election, only while
// it holds the Lease), serving Handler on cfg.Listen if set. It returns
// when everything it started has stopped; an error only if it could not
// start. Each term of leadership starts from the API server's current
// state: nothing is carried over from a previous one.
func (s *Scheduler) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	if s.cfg.Listen != "" {
		l, err := net.Listen("tcp", s.cfg.Listen)
		if err != nil {
			return fmt.Errorf("serving health and metrics: %w", err)
		}
		hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
		wg.Go(func() { _ = hs.Serve(l) })
		wg.Go(func() {
			<-ctx.Done()
			_ = hs.Close()
		})
	}
	if !s.cfg.LeaderElect {
		s.schedule(ctx)
		return nil
	}
	return leaderelection.Run(ctx, leaderelection.Config{
		Client: s.client, Namespace: "kube-system", Name: s.cfg.LeaseName, Identity: s.cfg.Identity,
		LeaseDuration: s.cfg.LeaseDuration, RenewDeadline: s.cfg.RenewDeadline, RetryPeriod: s.cfg.RetryPeriod,
	}, s.schedule)
}

// The kinds the scheduler reads; both are core, always registered.
var (
	podKind  = mustKind("pods")
	nodeKind = mustKind("nodes")
)

func mustKind(resource string) *apis.Kind {
	k, ok := apis.ByResource("", resource)
	if !ok {
		panic("scheduler: the API has no core " + resource)
	}
	return k
}

// run is the state of one term: built from scratch, dropped at its end.
type run struct {
	s        *Scheduler
	pods     *client.Informer
	nodes    *client.Informer
	cache    *Cache
	queue    *Queue
	recorder *events.Recorder
	rnd      *rand.Rand // used by the scheduling goroutine only
	binds    chan binding
	statuses chan unschedulable
}

// binding is a decision handed to the binders.
type binding struct {
	pod  *core.Pod
	node string
}

// unschedulable is a PodScheduled=False condition to write.
type unschedulable struct {
	pod     *core.Pod
	message string
}

// schedule runs one term: informers, the scheduling loop, binders and
// status writers, until ctx is done.
func (s *Scheduler) schedule(ctx context.Context) {
	host, _ := os.Hostname()
	seed := s.cfg.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	r := &run{
		s: s,
		// Finished pods hold nothing on their node: the server sends them
		// as DELETED once they stop matching, which frees their room.
		pods: client.NewInformer(s.client.ListWatch(podKind, "", client.ListOptions{
			FieldSelector: "status.phase!=" + core.PodSucceeded + ",status.phase!=" + core.PodFailed}), 0),
		nodes:    client.NewInformer(s.client.ListWatch(nodeKind, "", client.ListOptions{}), 0),
		cache:    NewCache(),
		queue:    NewQueue(nil),
		recorder: events.New(s.client, s.cfg.SchedulerName, host),
		rnd:      rand.New(rand.NewPCG(seed, seed>>1|1)),
		binds:    make(chan binding, 1024),
		statuses: make(chan unschedulable, 1024),
	}
	r.queue.InitialBackoff, r.queue.MaxBackoff = s.cfg.InitialBackoff, s.cfg.MaxBackoff
	r.nodes.AddEventHandler(client.Handler{OnAdd: r.addNode, OnUpdate: r.updateNode, OnDelete: r.deleteNode})
	r.pods.AddEventHandler(client.Handler{OnAdd: r.addPod, OnUpdate: r.updatePod, OnDelete: r.deletePod})

	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	s.metrics.queue.Store(r.queue)
	defer s.metrics.queue.Store(nil)

	wg.Go(func() { r.nodes.Run(ctx) })
	wg.Go(func() { r.pods.Run(ctx) })
	wg.Go(func() { r.recorder.Run(ctx) })
	// Nodes first: a pod decided against a partial node list could land
	// on a worse node than the one not yet listed.
	if !r.nodes.WaitForSync(ctx) || !r.pods.WaitForSync(ctx) {
		return
	}
	slog.Info("scheduler started", "schedulerName", s.cfg.SchedulerName, "score", s.cfg.Score)
	for range s.cfg.Binders {
		wg.Go(func() { r.bindLoop(ctx) })
	}
	for range 4 {
		wg.Go(func() { r.statusLoop(ctx) })
	}
	wg.Go(func() { r.flushLoop(ctx) })
	wg.Go(func() {
		<-ctx.Done()
		r.queue.Close()
	})
	for {
		key, cycle, ok := r.queue.Pop()
		if !ok {
			return
		}
		r.scheduleOne(ctx, key, cycle)
	}
}

// flushLoop moves pods whose backoff is over back to active.
func (r *run) flushLoop(ctx context.Context) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.queue.Flush()
		}
	}
}

// ---- event handlers: they only update the cache and the queue ----

func (r *run) responsible(pod *core.Pod) bool {
	return pod.Spec.SchedulerName == r.s.cfg.SchedulerName
}

func priority(pod *core.Pod) int32 {
	if pod.Spec.Priority != nil {
		return *pod.Spec.Priority
	}
	return 0
}

func (r *run) addPod(obj meta.Object) {
	pod := obj.(*core.Pod)
	switch {
	case pod.Spec.NodeName != "":
		r.cache.AddPod(pod)
	case r.responsible(pod) && pod.DeletionTimestamp == nil:
		r.queue.Add(podKey(pod), priority(pod))
	}
}

func (r *run) updatePod(oldObj, newObj meta.Object) {
	old, pod := oldObj.(*core.Pod), newObj.(*core.Pod)
	key := podKey(pod)
	switch {
	case pod.Spec.NodeName != "":
		r.cache.AddPod(pod)
		r.queue.Delete(key)
	case !r.responsible(pod) || pod.DeletionTimestamp != nil:
		r.queue.Delete(key)
	case old.Generation != pod.Generation || !maps.Equal(old.Labels, pod.Labels):
		// Only a change the pod's owner made can make it fit: our own
		// status writes must not send it round again.
		r.queue.Update(key, priority(pod))
	default:
		r.queue.Add(key, priority(pod))
	}
}

func (r *run) deletePod(obj meta.Object) {
	pod := obj.(*core.Pod)
	key := podKey(pod)
	r.queue.Delete(key)
	r.cache.RemovePod(key)
	if pod.Spec.NodeName != "" {
		r.queue.MoveAll() // its room is free now
	}
}

func (r *run) addNode(obj meta.Object) {
	r.cache.SetNode(obj.(*core.Node))
	r.queue.MoveAll()
}

func (r *run) updateNode(oldObj, newObj meta.Object) {
	old, node := oldObj.(*core.Node), newObj.(*core.Node)
	r.cache.SetNode(node)
	if nodeMayNowFit(old, node) {
		r.queue.MoveAll()
	}
}

func (r *run) deleteNode(obj meta.Object) {
	r.cache.RemoveNode(obj.(*core.Node).Name)
}

// nodeMayNowFit says whether a node update can make a pod fit that did
// not before. Node agents rewrite their status every few seconds
// (heartbeats); retrying every unschedulable pod on each would be a storm
// of work that changes nothing (kube-scheduler filters node events the
// same way).
func nodeMayNowFit(old, node *core.Node) bool {
	o, n := NewNodeInfo(old), NewNodeInfo(node)
	return o.Ready != n.Ready || o.Allocatable != n.Allocatable ||
		old.Spec.Unschedulable != node.Spec.Unschedulable ||
		!maps.Equal(old.Labels, node.Labels) || !taintsEqual(old.Spec.Taints, node.Spec.Taints)
}

func taintsEqual(a, b []core.Taint) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key != b[i].Key || a[i].Value != b[i].Value || a[i].Effect != b[i].Effect {
			return false
		}
	}
	return true
}

// ---- the scheduling loop ----

// scheduleOne decides for one pod: it fits somewhere (assume it there and
// hand it to the binders), or nowhere (record why, wait for a change).
func (r *run) scheduleOne(ctx context.Context, key string, cycle int64) {
	obj, ok := r.pods.Store().Get(key)
	if !ok {
		r.queue.Done(key) // deleted meanwhile
		return
	}
	pod := obj.(*core.Pod)
	if pod.Spec.NodeName != "" || pod.DeletionTimestamp != nil || !r.responsible(pod) {
		r.queue.Done(key)
		return
	}
	if r.cache.IsAssumed(key) {
		// Our binding of it is in flight or done and the watch has not
		// shown it yet: the cached pod is older than our own decision.
		// (A failed binding forgets the assumption before requeueing.)
		r.queue.Done(key)
		return
	}
	start := time.Now()
	p := NewPodInfo(pod)
	node, err := r.cache.Place(p, func(nodes []*NodeInfo) (string, error) {
		return r.s.profile.Schedule(p, nodes, r.rnd)
	})
	r.s.metrics.observeAlgorithm(time.Since(start))
	if err != nil {
		r.s.metrics.unschedulable.Add(1)
		r.queue.AddUnschedulable(key, cycle)
		slog.Debug("pod is unschedulable", "pod", key, "reason", err)
		r.recorder.Eventf(pod, events.Warning, "FailedScheduling", "%s", err.Error())
		select {
		case r.statuses <- unschedulable{pod: pod, message: err.Error()}:
		case <-ctx.Done():
		}
		return
	}
	r.s.metrics.scheduled.Add(1)
	select {
	case r.binds <- binding{pod: pod, node: node}:
	case <-ctx.Done():
		r.cache.Forget(key)
	}
}

// bindLoop binds decided pods. Several run at once so that many bindings
// are in flight together: one at a time, the scheduler would place no
// more pods per second than one round trip through the API server and
// etcd allows.
func (r *run) bindLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case b := <-r.binds:
			r.bind(ctx, b)
		}
	}
}

func (r *run) bind(ctx context.Context, b binding) {
	key := podKey(b.pod)
	body, _ := json.Marshal(core.Binding{
		TypeMeta: meta.TypeMeta{APIVersion: "v1", Kind: "Binding"},
		// The UID makes the binding fail if the pod was deleted and
		// re-created under the same name since we decided.
		ObjectMeta: meta.ObjectMeta{Name: b.pod.Name, Namespace: b.pod.Namespace, UID: b.pod.UID},
		Target:     core.ObjectReference{Kind: "Node", Name: b.node},
	})
	start := time.Now()
	path := client.Path(podKind, b.pod.Namespace, b.pod.Name, "binding")
	err := r.s.client.Do(ctx, http.MethodPost, path, nil, "application/json", body, nil)
	r.s.metrics.bindNanos.Add(int64(time.Since(start)))
	switch {
	case err == nil:
		r.s.metrics.bound.Add(1)
		r.queue.Done(key)
		r.recorder.Eventf(b.pod, events.Normal, "Scheduled", "Successfully assigned %s/%s to %s", b.pod.Namespace, b.pod.Name, b.node)
	case errors.Is(err, apierrors.ErrConflict) || errors.Is(err, apierrors.ErrNotFound):
		// Bound by someone else, being deleted, or gone: the informer
		// will show which. Nothing to retry.
		r.s.metrics.bindConflicts.Add(1)
		r.cache.Forget(key)
		r.queue.Done(key)
		slog.Info("binding refused; moving on", "pod", key, "node", b.node, "err", err)
	default:
		r.s.metrics.bindErrors.Add(1)
		r.cache.Forget(key)
		if ctx.Err() != nil {
			return
		}
		r.queue.AddBackoff(key)
		slog.Warn("binding failed; will retry", "pod", key, "node", b.node, "err", err)
	}
}

// statusLoop writes PodScheduled=False conditions, off the scheduling
// goroutine for the same reason as bindLoop.
func (r *run) statusLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case u := <-r.statuses:
			if err := r.setUnschedulable(ctx, u.pod, u.message); err != nil && ctx.Err() == nil {
				slog.Info("writing the PodScheduled condition failed", "pod", podKey(u.pod), "err", err)
			}
		}
	}
}

// setUnschedulable sets the pod's PodScheduled condition to False with
// reason Unschedulable and the FitError's message, unless it already says
// exactly that (so a pod retried many times costs no writes). A conflict
// means the pod changed: read it again and retry, a few times.
func (r *run) setUnschedulable(ctx context.Context, pod *core.Pod, message string) error {
	for attempt := 0; ; attempt++ {
		if pod.Spec.NodeName != "" {
			return nil // bound since: the binding set PodScheduled=True
		}
		cond, changed := unschedulableCondition(pod.Status.Conditions, message, meta.Now())
		if !changed {
			return nil
		}
		// A shallow copy with a new conditions slice: the cached pod is
		// shared and must not change.
		cp := *pod
		cp.Status.Conditions = cond
		cp.TypeMeta = meta.TypeMeta{APIVersion: "v1", Kind: "Pod"}
		body, err := json.Marshal(&cp)
		if err != nil {
			return err
		}
		path := client.Path(podKind, pod.Namespace, pod.Name, "status")
		err = r.s.client.Do(ctx, http.MethodPut, path, nil, "application/json", body, nil)
		if err == nil || errors.Is(err, apierrors.ErrNotFound) {
			return nil
		}
		if !errors.Is(err, apierrors.ErrConflict) || attempt >= 3 {
			return err
		}
		fresh := &core.Pod{}
		if err := r.s.client.Get(ctx, pod.Namespace, pod.Name, fresh); err != nil {
			if errors.Is(err, apierrors.ErrNotFound) {
				return nil
			}
			return err
		}
		pod = fresh
	}
}

// unschedulableCondition returns conds with PodScheduled set to False,
// reason Unschedulable, and message, and whether that changed anything.
// The transition time moves only when the status does, as in Kubernetes.
func unschedulableCondition(conds []core.PodCondition, message string, now meta.Time) ([]core.PodCondition, bool) {
	out := make([]core.PodCondition, 0, len(conds)+1)
	found := false
	for _, c := range conds {
		if c.Type != core.PodScheduled {
			out = append(out, c)
			continue
		}
		found = true
		if c.Status == core.ConditionFalse && c.Reason == "Unschedulable" && c.Message == message {
			return conds, false
		}
		nc := core.PodCondition{Type: core.PodScheduled, Status: core.ConditionFalse, Reason: "Unschedulable",
			Message: message, LastProbeTime: now, LastTransitionTime: c.LastTransitionTime}
		if c.Status != core.ConditionFalse {
			nc.LastTransitionTime = now
		}
		out = append(out, nc)
	}
	if !found {
		out = append(out, core.PodCondition{Type: core.PodScheduled, Status: core.ConditionFalse, Reason: "Unschedulable",
			Message: message, LastProbeTime: now, LastTransitionTime: now})
	}
	return out, true
}
