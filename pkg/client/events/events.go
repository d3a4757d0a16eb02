// Package events records Kubernetes Events about objects ("Scheduled",
// "SuccessfulCreate", "FailedScheduling" ...) so that kubectl describe can
// show what happened to an object and why.
//
// Recording never blocks the caller and never fails it: events are
// written by one background goroutine from a bounded buffer, and dropped
// (with a log line) when the API server cannot keep up. A repeat of the
// same event for the same object within ten minutes bumps the count of
// the existing Event instead of creating a new one, as Kubernetes does.
package events

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/client"
)

// Event types.
const (
	Normal  = "Normal"
	Warning = "Warning"
)

// Recorder writes Events for one component. Start it with Run.
type Recorder struct {
	c         *client.Client
	component string
	host      string
	// queues has one queue per writer; an event goes to the queue its
	// correlation key hashes to, so repeats of one event are written in
	// order by one writer and counted, not duplicated.
	queues [writers]chan *core.Event

	mu      sync.Mutex
	seen    map[string]*seenEvent // correlation key -> last written event
	dropped int                   // events dropped since the last report
}

type seenEvent struct {
	name, namespace string
	count           int32
	at              time.Time
}

// New returns a Recorder that reports as component (e.g. "default-scheduler").
func New(c *client.Client, component, host string) *Recorder {
	r := &Recorder{c: c, component: component, host: host, seen: map[string]*seenEvent{}}
	for i := range r.queues {
		r.queues[i] = make(chan *core.Event, 256)
	}
	return r
}

// Eventf records an event about obj. typ is Normal or Warning; reason is a
// short CamelCase word; the message says what happened.
func (r *Recorder) Eventf(obj meta.Object, typ, reason, format string, args ...any) {
	m := obj.GetObjectMeta()
	ref := core.ObjectReference{Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion}
	if k, ok := apis.ForObject(obj); ok {
		ref.Kind, ref.APIVersion = k.Kind, k.APIVersion()
	}
	ns := m.Namespace
	if ns == "" {
		ns = "default"
	}
	now := meta.Now()
	ev := &core.Event{
		ObjectMeta:     meta.ObjectMeta{Name: fmt.Sprintf("%s.%x", m.Name, time.Now().UnixNano()), Namespace: ns},
		InvolvedObject: ref, Reason: reason, Message: fmt.Sprintf(format, args...), Type: typ,
		Source:         core.EventSource{Component: r.component, Host: r.host},
		FirstTimestamp: now, LastTimestamp: now, Count: 1,
		ReportingController: r.component, ReportingInstance: r.host,
	}
	h := fnv.New32a()
	h.Write([]byte(correlationKey(ev)))
	select {
	case r.queues[h.Sum32()%writers] <- ev:
	default:
		r.mu.Lock()
		r.dropped++ // reported in summary by Run, not once per event
		r.mu.Unlock()
	}
}

// writers is how many events are written at once: enough to keep up with
// a scheduler binding a thousand pods a second.
const writers = 4

// Run writes queued events until ctx is done, and reports how many were
// dropped (at most once every 10 s).
func (r *Recorder) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, q := range r.queues {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case ev := <-q:
					r.write(ctx, ev)
				}
			}
		}()
	}
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-t.C:
			r.mu.Lock()
			n := r.dropped
			r.dropped = 0
			r.mu.Unlock()
			if n > 0 {
				slog.Warn("events dropped: the API server did not keep up", "count", n, "component", r.component)
			}
		}
	}
}

// correlationKey says which events are repeats of one another.
func correlationKey(ev *core.Event) string {
	return ev.InvolvedObject.UID + "|" + ev.Type + "|" + ev.Reason + "|" + ev.Message
}

func (r *Recorder) write(ctx context.Context, ev *core.Event) {
	key := correlationKey(ev)
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	r.mu.Lock()
	prev := r.seen[key]
	r.mu.Unlock()
	if prev != nil && time.Since(prev.at) < 10*time.Minute {
		patch, _ := json.Marshal(map[string]any{"count": prev.count + 1, "lastTimestamp": ev.LastTimestamp})
		var out core.Event
		if err := r.c.Patch(wctx, prev.namespace, prev.name, client.MergePatch, patch, &out); err == nil {
			r.remember(key, prev.name, prev.namespace, prev.count+1)
			return
		}
	}
	if err := r.c.Create(wctx, ev); err != nil {
		slog.Info("writing an event failed", "reason", ev.Reason, "err", err)
		return
	}
	r.remember(key, ev.Name, ev.Namespace, 1)
}

func (r *Recorder) remember(key, name, ns string, count int32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.seen) > 4096 {
		r.seen = map[string]*seenEvent{} // bound the memory; worst case a new Event instead of a count
	}
	r.seen[key] = &seenEvent{name: name, namespace: ns, count: count, at: time.Now()}
}
