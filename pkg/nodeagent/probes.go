package nodeagent

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/intstr"
	"minik8s/pkg/client"
	"minik8s/pkg/client/events"
)

// prober runs the probes of running containers: one goroutine per probe
// of each running instance, started and stopped by sync. Results are kept
// by instance ID; a change enqueues the pod.
type prober struct {
	a       *Agent
	mu      sync.Mutex
	workers map[string]context.CancelFunc // by instance ID
	state   map[string]probeState
}

func newProber(a *Agent) *prober {
	return &prober{a: a, workers: map[string]context.CancelFunc{}, state: map[string]probeState{}}
}

func (p *prober) results() map[string]probeState {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]probeState, len(p.state))
	for k, v := range p.state {
		out[k] = v
	}
	return out
}

// sync starts workers for running instances with probes and stops those
// of instances that stopped.
func (p *prober) sync(pod *core.Pod, ip string, ins []instance) {
	p.mu.Lock()
	defer p.mu.Unlock()
	live := map[string]bool{}
	for _, in := range ins {
		if !in.Running || in.Init {
			continue
		}
		live[in.ID] = true
		c, ok := findContainer(pod, in.Name)
		if !ok || p.workers[in.ID] != nil || (c.LivenessProbe == nil && c.ReadinessProbe == nil && c.StartupProbe == nil) {
			continue
		}
		ctx, cancel := context.WithCancel(context.Background())
		p.workers[in.ID] = cancel
		p.state[in.ID] = probeState{Ready: false, Started: c.StartupProbe == nil}
		go p.run(ctx, client.KeyOf(pod), pod, ip, in.ID, c)
	}
	for id, cancel := range p.workers {
		if !live[id] && p.belongs(id, pod.UID) {
			cancel()
			delete(p.workers, id)
			delete(p.state, id)
		}
	}
}

func (p *prober) belongs(id, uid string) bool { return len(id) > len(uid) && id[:len(uid)] == uid }

func (p *prober) forget(ids []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range ids {
		if c := p.workers[id]; c != nil {
			c()
		}
		delete(p.workers, id)
		delete(p.state, id)
	}
}

func (p *prober) stopAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, c := range p.workers {
		c()
		delete(p.workers, id)
	}
}

// update changes one instance's state and enqueues the pod if it changed.
func (p *prober) update(key, id string, f func(*probeState)) {
	p.mu.Lock()
	st, ok := p.state[id]
	if !ok {
		p.mu.Unlock()
		return
	}
	old := st
	f(&st)
	p.state[id] = st
	p.mu.Unlock()
	if st != old {
		p.a.queue.Add(key)
	}
}

func (p *prober) get(id string) probeState {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state[id]
}

// run drives the probes of one instance: the startup probe until it
// passes, then liveness and readiness side by side (Kubernetes' order).
func (p *prober) run(ctx context.Context, key string, pod *core.Pod, ip, id string, c core.Container) {
	if c.StartupProbe != nil {
		ok := p.loop(ctx, pod, ip, id, c, "Startup", c.StartupProbe, func(success bool) bool {
			if success {
				p.update(key, id, func(s *probeState) { s.Started = true })
				return false // done: startup probes stop once they pass
			}
			p.update(key, id, func(s *probeState) { s.LivenessFails = true })
			return false
		})
		if !ok {
			return
		}
	}
	var wg sync.WaitGroup
	if c.LivenessProbe != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.loop(ctx, pod, ip, id, c, "Liveness", c.LivenessProbe, func(success bool) bool {
				if !success {
					p.update(key, id, func(s *probeState) { s.LivenessFails = true })
					return false
				}
				return true
			})
		}()
	}
	if c.ReadinessProbe != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.loop(ctx, pod, ip, id, c, "Readiness", c.ReadinessProbe, func(success bool) bool {
				p.update(key, id, func(s *probeState) { s.Ready = success })
				return true
			})
		}()
	} else {
		p.update(key, id, func(s *probeState) { s.Ready = true })
	}
	wg.Wait()
}

// loop probes every periodSeconds after initialDelaySeconds and calls
// onResult whenever the result crosses successThreshold or
// failureThreshold; it stops when onResult returns false (reporting true)
// or ctx ends (reporting false).
func (p *prober) loop(ctx context.Context, pod *core.Pod, ip, id string, c core.Container, kind string, pr *core.Probe, onResult func(bool) bool) bool {
	period := time.Duration(max(pr.PeriodSeconds, 1)) * time.Second
	timeout := time.Duration(max(pr.TimeoutSeconds, 1)) * time.Second
	successT, failureT := max(pr.SuccessThreshold, 1), max(pr.FailureThreshold, 1)
	if !sleep(ctx, time.Duration(pr.InitialDelaySeconds)*time.Second) {
		return false
	}
	var successes, failures int32
	for {
		pctx, cancel := context.WithTimeout(ctx, timeout)
		err := p.probe(pctx, ip, id, c, pr)
		cancel()
		if ctx.Err() != nil {
			return false
		}
		if err == nil {
			successes, failures = successes+1, 0
			if successes >= successT && !onResult(true) {
				return true
			}
		} else {
			successes, failures = 0, failures+1
			if kind != "Startup" || failures >= failureT {
				p.a.events.Eventf(pod, events.Warning, "Unhealthy", "%s probe failed: %v", kind, err)
			}
			if failures >= failureT && !onResult(false) {
				return true
			}
		}
		if !sleep(ctx, period) {
			return false
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// probe runs one check; nil means success.
func (p *prober) probe(ctx context.Context, ip, id string, c core.Container, pr *core.Probe) error {
	switch {
	case pr.Exec != nil:
		code, out, err := p.a.rt.Exec(ctx, id, pr.Exec.Command)
		if err != nil {
			return err
		}
		if code != 0 {
			return fmt.Errorf("command %v exited with %d: %s", pr.Exec.Command, code, out)
		}
		return nil
	case pr.HTTPGet != nil:
		g := pr.HTTPGet
		host := g.Host
		if host == "" {
			host = ip
		}
		port, err := resolvePort(g.Port, c)
		if err != nil {
			return err
		}
		path := g.Path
		if path == "" {
			path = "/"
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, strconv.Itoa(port))+path, nil)
		if err != nil {
			return err
		}
		for _, h := range g.HTTPHeaders {
			req.Header.Set(h.Name, h.Value)
		}
		req.Header.Set("User-Agent", "kube-probe/minik8s")
		hc := &http.Client{Transport: &http.Transport{DialContext: dialer(p.a.cfg.NodeNetns), DisableKeepAlives: true}}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode >= 400 {
			return fmt.Errorf("HTTP probe failed with statuscode: %d", resp.StatusCode)
		}
		return nil
	case pr.TCPSocket != nil:
		host := pr.TCPSocket.Host
		if host == "" {
			host = ip
		}
		port, err := resolvePort(pr.TCPSocket.Port, c)
		if err != nil {
			return err
		}
		conn, err := dialer(p.a.cfg.NodeNetns)(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return err
		}
		return conn.Close()
	}
	return fmt.Errorf("probe has no handler")
}

// resolvePort turns a port number or a named container port into a number.
func resolvePort(p intstr.IntOrString, c core.Container) (int, error) {
	if p.Type == intstr.Int {
		return int(p.IntVal), nil
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return int(cp.ContainerPort), nil
		}
	}
	if n, err := strconv.Atoi(p.StrVal); err == nil {
		return n, nil
	}
	return 0, fmt.Errorf("container %s has no port named %q", c.Name, p.StrVal)
}

var _ = client.KeyOf
