package nodeagent

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/client"
	"minik8s/pkg/client/events"
	"minik8s/pkg/client/workqueue"
)

// Agent is one node's agent. Create it with New and start it with Run; it
// cannot be restarted once Run returned.
type Agent struct {
	cfg    Config
	log    *slog.Logger
	client *client.Client
	rt     *containerdRuntime
	net    *cniNetwork
	pods   *client.Informer
	queue  *workqueue.Queue
	events *events.Recorder
	probes *prober
	hostIP string

	mu sync.Mutex
	// pulls holds failed image pulls by pod uid and container name; an
	// entry goes when a pull succeeds or the pod goes.
	pulls map[string]map[string]pullFailure
	// running is the set of running instance IDs as of the last sync of
	// their pod (the log endpoint uses it to end a follow).
	running map[string]bool

	syncs, syncErrors, starts atomic.Int64
}

// New returns an agent for cfg (which must be valid). It does no I/O.
func New(cfg Config) (*Agent, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	c, err := client.NewFrom(cfg.Server, cfg.Kubeconfig)
	if err != nil {
		return nil, err
	}
	c.UserAgent = "minik8s-nodeagent/" + cfg.NodeName
	a := &Agent{
		cfg: cfg, log: cfg.Log, client: c,
		queue:   workqueue.NewWithRateLimiter("pods", workqueue.MaxOf(workqueue.NewBackoff(100*time.Millisecond, 30*time.Second))),
		events:  events.New(c, "kubelet", cfg.NodeName),
		pulls:   map[string]map[string]pullFailure{},
		running: map[string]bool{},
	}
	a.probes = newProber(a)
	return a, nil
}

var podKind, _ = apis.ByKind("", "Pod")

// Run runs the agent until ctx is done: it connects to containerd, imports
// preloaded images, registers the node, then serves its HTTP API and syncs
// pods. It returns when everything it started has stopped.
func (a *Agent) Run(ctx context.Context) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	rt, err := newContainerd(a.cfg.ContainerdAddress, a.cfg.Namespace, a.cfg.InsecureRegistry, self, a.log)
	if err != nil {
		return err
	}
	defer rt.Close()
	a.rt = rt
	if a.cfg.PreloadImages != "" {
		if err := rt.importImages(ctx, a.cfg.PreloadImages); err != nil {
			return err
		}
	}
	a.hostIP = a.cfg.NodeIP
	if a.hostIP == "" {
		a.hostIP = firstIPv4(a.cfg.NodeNetns)
	}
	podCIDR, err := a.registerNode(ctx)
	if err != nil {
		return err
	}
	if a.net, err = newCNINetwork(a.cfg.CNIBinDir, a.cfg.CNIConfFile, podCIDR, a.cfg.RootDir, a.cfg.NodeNetns, a.cfg.ClusterCIDR == ""); err != nil {
		return err
	}
	ln, err := listen(a.cfg.NodeNetns, a.cfg.Listen)
	if err != nil {
		return fmt.Errorf("agent API: %w", err)
	}
	handler := a.handler()
	if tc := a.serverTLS(); tc != nil {
		// With a client certificate the agent is in a secure cluster: its
		// API is HTTPS with the same certificate, and only the API server
		// may read logs (as the kubelet's authn/authz does).
		ln = tls.NewListener(ln, tc)
		handler = onlyAPIServer(handler)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}

	a.pods = client.NewInformer(a.client.ListWatch(podKind, "", client.ListOptions{FieldSelector: "spec.nodeName=" + a.cfg.NodeName}), a.cfg.ResyncPeriod)
	enqueue := func(o meta.Object) { a.queue.Add(client.KeyOf(o)) }
	a.pods.AddEventHandler(client.Handler{
		OnAdd: enqueue, OnUpdate: func(_, o meta.Object) { enqueue(o) }, OnDelete: enqueue,
	})

	var wg sync.WaitGroup
	run := func(f func(context.Context)) {
		wg.Add(1)
		go func() { defer wg.Done(); f(ctx) }()
	}
	run(a.events.Run)
	run(a.pods.Run)
	run(a.heartbeat)
	if a.cfg.Routes || a.cfg.ClusterCIDR != "" {
		run(func(ctx context.Context) { a.syncRoutesLoop(ctx, podCIDR) })
	}
	run(func(ctx context.Context) { rt.watchExits(ctx, a.containerChanged) })
	run(func(ctx context.Context) {
		go func() { <-ctx.Done(); srv.Shutdown(context.Background()) }()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("agent API", "err", err)
		}
	})
	if !a.pods.WaitForSync(ctx) {
		wg.Wait()
		return ctx.Err()
	}
	run(a.housekeeping)
	a.log.Info("node agent running", "node", a.cfg.NodeName, "podCIDR", podCIDR, "listen", ln.Addr().String())
	go func() { <-ctx.Done(); a.queue.ShutDown() }()
	workqueue.Run(ctx, a.queue, 8, a.sync)
	a.probes.stopAll()
	wg.Wait()
	return nil
}

// containerChanged is called for every task exit: the pod of the container
// needs a sync.
func (a *Agent) containerChanged(id string, _ bool) {
	cs, err := a.rt.List(context.Background(), containerByID(id))
	if err != nil {
		return
	}
	for _, c := range cs {
		a.queue.Add(c.PodNamespace + "/" + c.PodName)
	}
}

// housekeeping periodically enqueues the pods that have containers but no
// pod object any more (deleted while the agent was down, or whose delete
// the agent missed), so sync removes them. It runs once at start too: that
// is the adoption pass after a restart.
func (a *Agent) housekeeping(ctx context.Context) {
	t := time.NewTicker(a.cfg.ResyncPeriod)
	defer t.Stop()
	for {
		cs, err := a.rt.List(ctx)
		if err == nil {
			seen := map[string]bool{}
			for _, c := range cs {
				key := c.PodNamespace + "/" + c.PodName
				if !seen[key] {
					seen[key] = true
					a.queue.Add(key)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sync converges one pod (key "namespace/name") and reports its status.
func (a *Agent) sync(ctx context.Context, key string) error {
	a.syncs.Add(1)
	err := a.syncPod(ctx, key)
	if err != nil {
		a.syncErrors.Add(1)
		a.log.Warn("sync pod", "pod", key, "err", err)
	}
	return err
}

func (a *Agent) syncPod(ctx context.Context, key string) error {
	ns, name := client.SplitKey(key)
	all, err := a.rt.List(ctx, podContainers(ns, name))
	if err != nil {
		return err
	}
	obj, exists := a.pods.Store().Get(key)
	var pod *core.Pod
	if exists {
		pod = obj.(*core.Pod)
	}
	// Containers of this pod, and containers of any earlier pod that had
	// the same name: those go.
	var mine []instance
	stale := map[string][]string{}
	for _, c := range all {
		if pod != nil && c.PodUID == pod.UID {
			mine = append(mine, c.instance)
		} else {
			stale[c.PodUID] = append(stale[c.PodUID], c.ID)
		}
	}
	for uid, ids := range stale {
		if err := a.removePod(ctx, uid, ids, 0); err != nil {
			return err
		}
	}
	if pod == nil {
		return nil
	}
	if pod.DeletionTimestamp != nil {
		return a.terminatePod(ctx, pod, mine)
	}
	ip, err := a.net.Setup(ctx, pod.UID, pod.Namespace, pod.Name)
	if err != nil {
		a.events.Eventf(pod, events.Warning, "FailedCreatePodSandBox", "Failed to create pod network: %v", err)
		return err
	}
	if _, err := ensureSandbox(a.cfg.RootDir, pod.UID, hostname(pod)); err != nil {
		a.events.Eventf(pod, events.Warning, "FailedCreatePodSandBox", "Failed to create pod sandbox: %v", err)
		return err
	}
	if err := a.writePodFiles(pod, ip); err != nil {
		return err
	}
	now := time.Now()
	o := observed{Instances: mine, Probes: a.probes.results(), Pulls: a.pullFailures(pod.UID)}
	acts := computePodActions(pod, o, now, a.cfg.CrashBackoff, a.cfg.MaxCrashBackoff)
	for container, w := range acts.Waiting {
		// The kubelet's BackOff events; the recorder counts repeats.
		switch w.Reason {
		case "CrashLoopBackOff":
			a.events.Eventf(pod, events.Warning, "BackOff", "Back-off restarting failed container %s in pod %s_%s(%s)", container, pod.Name, pod.Namespace, pod.UID)
		case "ImagePullBackOff":
			if c, ok := findContainer(pod, container); ok {
				a.events.Eventf(pod, events.Normal, "BackOff", "Back-off pulling image %q", c.Image)
			}
		}
	}
	changed := a.execute(ctx, pod, ip, acts)
	if changed {
		// Report what is true now, not what was true before acting.
		if all, err = a.rt.List(ctx, podContainers(ns, name)); err != nil {
			return err
		}
		mine = mine[:0]
		for _, c := range all {
			if c.PodUID == pod.UID {
				mine = append(mine, c.instance)
			}
		}
	}
	a.noteRunning(mine)
	if err := a.refreshTokens(ctx, pod, now); err != nil {
		a.log.Warn("projected token", "pod", key, "err", err)
	}
	a.probes.sync(pod, ip, mine)
	o = observed{Instances: mine, Probes: a.probes.results(), Pulls: a.pullFailures(pod.UID)}
	st := computePodStatus(pod, o, acts.Waiting, ip, a.hostIP, now)
	if err := a.writeStatus(ctx, pod, st); err != nil {
		return err
	}
	if acts.Requeue > 0 {
		a.queue.AddAfter(key, acts.Requeue+10*time.Millisecond)
	}
	return nil
}

// execute carries out acts; it reports whether it changed any container.
// Failures to start are recorded in acts.Waiting (for the status) and in
// events, and are retried through the actions' backoff, not hot.
func (a *Agent) execute(ctx context.Context, pod *core.Pod, ip string, acts podActions) bool {
	changed := false
	grace := time.Duration(*orDefault(pod.Spec.TerminationGracePeriodSeconds, 30)) * time.Second
	var wg sync.WaitGroup
	for id, reason := range acts.Kill {
		changed = true
		a.events.Eventf(pod, events.Normal, "Killing", "%s", reason)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.rt.Stop(ctx, id, grace); err != nil {
				a.log.Warn("stopping container", "container", id, "err", err)
			}
		}()
	}
	wg.Wait()
	for _, id := range acts.Remove {
		changed = true
		if err := a.rt.Remove(ctx, id); err != nil {
			a.log.Warn("removing container", "container", id, "err", err)
		}
	}
	var mu sync.Mutex
	startOne := func(s startAction) {
		err := a.startContainer(ctx, pod, ip, s)
		if err == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		reason := "CreateContainerError"
		switch {
		case errors.Is(err, errImagePull):
			reason = "ErrImagePull"
		case errors.Is(err, errImageNeverPull):
			reason = "ErrImageNeverPull"
		case errors.Is(err, errConfig):
			reason = "CreateContainerConfigError"
		}
		acts.Waiting[s.Name] = waiting{Reason: reason, Message: err.Error()}
		a.events.Eventf(pod, events.Warning, "Failed", "Error: %s: %v", reason, err)
		if reason != "CreateContainerError" {
			// Wait before trying again, as after a failed pull.
			a.failedPull(pod.UID, s.Name, err.Error())
			a.queue.AddAfter(client.KeyOf(pod), a.pullFailures(pod.UID)[s.Name].Until.Sub(time.Now())+10*time.Millisecond)
		} else {
			a.queue.AddAfter(client.KeyOf(pod), a.cfg.CrashBackoff)
		}
	}
	for _, s := range acts.Start {
		changed = true
		wg.Add(1)
		go func() { defer wg.Done(); startOne(s) }()
	}
	wg.Wait()
	return changed
}

// terminatePod is graceful deletion: stop every container (SIGTERM, the
// pod's deletion grace period, SIGKILL), remove them and the pod network,
// then delete the pod object for good (grace period 0, preconditioned on
// its uid so a new pod of the same name is never deleted by mistake).
func (a *Agent) terminatePod(ctx context.Context, pod *core.Pod, mine []instance) error {
	grace := time.Duration(*orDefault(pod.DeletionGracePeriodSeconds, 30)) * time.Second
	if dl := pod.DeletionTimestamp; dl != nil {
		// The grace period counts from the delete request.
		if g := time.Until(dl.Time); g < grace && g >= 0 {
			grace = g
		}
	}
	ids := make([]string, 0, len(mine))
	for _, in := range mine {
		ids = append(ids, in.ID)
		if in.Running {
			a.events.Eventf(pod, events.Normal, "Killing", "Stopping container %s", in.Name)
		}
	}
	if err := a.removePod(ctx, pod.UID, ids, grace); err != nil {
		return err
	}
	zero := int64(0)
	uid := pod.UID
	err := a.client.Delete(ctx, podKind, pod.Namespace, pod.Name, &meta.DeleteOptions{GracePeriodSeconds: &zero, Preconditions: &meta.Preconditions{UID: &uid}})
	if err != nil && !errors.Is(err, apierrors.ErrNotFound) && !errors.Is(err, apierrors.ErrConflict) {
		return fmt.Errorf("deleting pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

// removePod stops and removes a pod's containers, tears down its network
// and deletes its directory.
func (a *Agent) removePod(ctx context.Context, uid string, ids []string, grace time.Duration) error {
	var wg sync.WaitGroup
	errs := make([]error, len(ids))
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.rt.Stop(ctx, id, grace); err != nil {
				errs[i] = err
				return
			}
			errs[i] = a.rt.Remove(ctx, id)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	a.probes.forget(ids)
	if err := a.net.Teardown(ctx, uid); err != nil {
		return err
	}
	if err := removeSandbox(a.cfg.RootDir, uid); err != nil {
		return err
	}
	a.mu.Lock()
	delete(a.pulls, uid)
	a.mu.Unlock()
	return os.RemoveAll(podDir(a.cfg.RootDir, uid))
}

// writeStatus writes st if it differs from what the API server has. On a
// conflict the next sync (the returned error requeues) recomputes it.
func (a *Agent) writeStatus(ctx context.Context, pod *core.Pod, st core.PodStatus) error {
	if equalJSON(pod.Status, st) {
		return nil
	}
	p := *pod // shallow copy: only Status is replaced, the cache object is untouched
	p.Status = st
	if err := a.client.UpdateStatus(ctx, &p); err != nil {
		if errors.Is(err, apierrors.ErrNotFound) {
			return nil
		}
		if errors.Is(err, apierrors.ErrConflict) {
			// Our cache is behind the pod (often: behind our own last
			// status write). Never write this status over the newer one:
			// sync again shortly from fresh state, without the growing
			// backoff of a failure.
			a.queue.AddAfter(client.KeyOf(pod), 50*time.Millisecond)
			return nil
		}
		return fmt.Errorf("writing status of %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

func equalJSON(x, y any) bool {
	a, err1 := json.Marshal(x)
	b, err2 := json.Marshal(y)
	return err1 == nil && err2 == nil && string(a) == string(b)
}

func (a *Agent) pullFailures(uid string) map[string]pullFailure {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string]pullFailure{}
	for k, v := range a.pulls[uid] {
		out[k] = v
	}
	return out
}

// failedPull records a failure and doubles the container's pull backoff.
func (a *Agent) failedPull(uid, name, msg string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	m := a.pulls[uid]
	if m == nil {
		m = map[string]pullFailure{}
		a.pulls[uid] = m
	}
	prev := m[name]
	prev.Count++
	m[name] = pullFailure{Message: msg, Count: prev.Count,
		Until: time.Now().Add(crashBackoff(prev.Count-1, a.cfg.CrashBackoff, a.cfg.MaxCrashBackoff))}
}

func (a *Agent) pulled(uid, name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.pulls[uid], name)
}

func (a *Agent) noteRunning(ins []instance) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, in := range ins {
		if in.Running {
			a.running[in.ID] = true
		} else {
			delete(a.running, in.ID)
		}
	}
}

func (a *Agent) isRunning(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.running[id]
}

func orDefault(p *int64, d int64) *int64 {
	if p == nil {
		return &d
	}
	return p
}

// firstIPv4 is the node's first non-loopback IPv4 address (in the node's
// netns when there is one).
func firstIPv4(nodeNS string) string {
	var ip string
	inNetns(nodeNS, func() error {
		ifaces, _ := net.Interfaces()
		for _, iface := range ifaces {
			// The pod bridge and the pods' veth ends carry addresses too,
			// but they are not the node's: skip them.
			if strings.HasPrefix(iface.Name, "cni") || strings.HasPrefix(iface.Name, "veth") {
				continue
			}
			addrs, _ := iface.Addrs()
			for _, a := range addrs {
				if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
					ip = n.IP.String()
					return nil
				}
			}
		}
		return nil
	})
	if ip == "" {
		ip = "127.0.0.1"
	}
	return ip
}
