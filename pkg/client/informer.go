package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/meta"
)

// Handler receives the changes an Informer sees. Any func may be nil.
// Handlers must be quick and must not block: a controller's handlers only
// add keys to its work queue, and its workers read the cache. The objects
// passed are the cache's own: never modify them.
type Handler struct {
	OnAdd func(obj meta.Object)
	// OnUpdate gets the previous and the new state. During a resync old
	// and new are the same object: nothing changed, it is a reminder.
	OnUpdate func(old, new meta.Object)
	// OnDelete gets the last state the cache knew. When the deletion was
	// noticed by a relist rather than a watch event, that state may be
	// older than the object's final one.
	OnDelete func(obj meta.Object)
}

// Informer keeps a local Store in step with one resource on the API server
// and tells handlers what changed. It is Kubernetes' reflector plus shared
// informer in one small type:
//
//   - It lists, replaces the Store with the result, then watches from the
//     list's resourceVersion, so no change between the two is missed.
//   - When the watch ends normally it resumes from the last
//     resourceVersion it saw (including bookmarks), without relisting.
//   - When the server answers 410 Gone (that revision is compacted) it
//     relists. The relist is diffed against the Store, so handlers get
//     OnAdd, OnUpdate and OnDelete for exactly what changed while it was
//     not watching: the cache converges to the server's state whatever was
//     missed. That is why controllers built on it are level-triggered: they
//     act on the cache's current state, never on the history of events.
//   - Any other failure is retried with jittered exponential backoff
//     (capped at 30 s, reset by a healthy watch). It never gives up.
//
// Handler calls are serialized, in the order the changes were applied to
// the Store; when a handler runs, the Store already holds the change.
// An Informer is started once with Run and cannot be restarted.
type Informer struct {
	lw     ListerWatcher
	resync time.Duration
	store  *Store
	log    *slog.Logger
	// minBackoff and maxBackoff bound the wait after a failed list or
	// watch. They are fields so tests can shrink them.
	minBackoff, maxBackoff time.Duration

	// dispatchMu is held while a change is applied to store and handed to
	// the handlers, and while handlers are added, so that every handler
	// sees every change exactly once and in order.
	dispatchMu sync.Mutex
	handlers   []Handler

	mu      sync.Mutex
	started bool
	lastRV  string        // the newest revision the store reflects
	synced  chan struct{} // closed once the first list is in the store
}

// shortWatch is how long a watch must last, if it delivered nothing, to
// count as healthy. A server that ends every watch at once would otherwise
// be re-watched in a hot loop (client-go's "very short watch").
const shortWatch = time.Second

// NewInformer returns an Informer for lw that, when resync > 0, also calls
// OnUpdate(obj, obj) for every cached object every resync interval, so a
// controller periodically re-checks objects even when nothing changes.
// If lw implements fmt.Stringer, its String names the informer in logs.
func NewInformer(lw ListerWatcher, resync time.Duration) *Informer {
	log := slog.Default().With("component", "informer")
	if s, ok := lw.(fmt.Stringer); ok {
		log = log.With("resource", s.String())
	}
	return &Informer{
		lw:         lw,
		resync:     resync,
		store:      NewStore(),
		log:        log,
		minBackoff: 800 * time.Millisecond, // client-go's reflector values
		maxBackoff: 30 * time.Second,
		synced:     make(chan struct{}),
	}
}

// Store returns the Informer's cache. Read it freely; never modify it or
// the objects in it.
func (inf *Informer) Store() *Store { return inf.store }

// AddEventHandler registers h. If the Informer already holds objects, h
// first gets OnAdd for each of them, so a handler added after Run sees the
// same world as one added before. A handler must not call AddEventHandler.
func (inf *Informer) AddEventHandler(h Handler) {
	inf.dispatchMu.Lock()
	defer inf.dispatchMu.Unlock()
	if h.OnAdd != nil {
		for _, obj := range inf.store.List() {
			h.OnAdd(obj)
		}
	}
	inf.handlers = append(inf.handlers, h)
}

// HasSynced reports whether the first list has been stored and handed to
// the handlers. Controllers wait for it before starting workers, so that
// they never act on a partial cache (for example, create a pod because the
// cache does not yet show the existing ones).
func (inf *Informer) HasSynced() bool {
	select {
	case <-inf.synced:
		return true
	default:
		return false
	}
}

// WaitForSync blocks until HasSynced or ctx is done, and reports HasSynced.
func (inf *Informer) WaitForSync(ctx context.Context) bool {
	select {
	case <-inf.synced:
		return true
	case <-ctx.Done():
		return inf.HasSynced()
	}
}

// LastSyncResourceVersion returns the newest resourceVersion the Store
// reflects: that of the last list, event or bookmark. It is "" before the
// first list.
func (inf *Informer) LastSyncResourceVersion() string {
	inf.mu.Lock()
	defer inf.mu.Unlock()
	return inf.lastRV
}

func (inf *Informer) setLastRV(rv string) {
	inf.mu.Lock()
	defer inf.mu.Unlock()
	inf.lastRV = rv
}

// Run lists and watches until ctx is done, and returns when everything it
// started has stopped. It panics if called twice.
func (inf *Informer) Run(ctx context.Context) {
	inf.mu.Lock()
	if inf.started {
		inf.mu.Unlock()
		panic("client: Informer.Run called twice")
	}
	inf.started = true
	inf.mu.Unlock()

	var wg sync.WaitGroup
	if inf.resync > 0 {
		wg.Go(func() { inf.resyncLoop(ctx) })
	}
	inf.reflect(ctx)
	wg.Wait()
}

// reflect is the reflector loop: list, then watch, forever. needList says
// whether the Store must be rebuilt from a list (at start and after 410)
// or can resume watching from LastSyncResourceVersion.
func (inf *Informer) reflect(ctx context.Context) {
	b := backoff{min: inf.minBackoff, max: inf.maxBackoff}
	b.reset()
	needList := true
	for ctx.Err() == nil {
		if needList {
			if err := inf.list(ctx); err != nil {
				inf.pause(ctx, &b, err)
				continue
			}
			needList = false
		}
		healthy, err := inf.watch(ctx)
		if healthy {
			b.reset()
		}
		switch {
		case ctx.Err() != nil:
			return
		case err == nil:
			inf.log.Debug("watch closed; resuming", "resourceVersion", inf.LastSyncResourceVersion())
		case errors.Is(err, apierrors.ErrGone):
			// Our revision is compacted: only a fresh list can tell us
			// what we missed. Still pause, so a server that keeps
			// answering 410 is not relisted in a hot loop.
			inf.log.Info("resourceVersion compacted; relisting", "err", err)
			needList = true
			inf.wait(ctx, b.next())
		default:
			inf.pause(ctx, &b, err)
		}
	}
}

// pause logs a failure and waits out the next backoff step.
func (inf *Informer) pause(ctx context.Context, b *backoff, err error) {
	if ctx.Err() != nil {
		return // stopping, not failing
	}
	d := b.next()
	inf.log.Warn("list/watch failed; retrying", "err", err, "retryIn", d.Round(time.Millisecond))
	inf.wait(ctx, d)
}

// wait sleeps for d or until ctx is done.
func (inf *Informer) wait(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// list replaces the Store with a fresh list of the resource.
func (inf *Informer) list(ctx context.Context) error {
	items, rv, err := inf.lw.List(ctx)
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	inf.replace(items, rv)
	return nil
}

// replace makes the Store equal to items, telling the handlers about each
// difference: OnAdd for new keys, OnUpdate for changed resourceVersions,
// OnDelete for keys no longer listed. The first replace marks the Informer
// synced.
func (inf *Informer) replace(items []meta.Object, rv string) {
	inf.dispatchMu.Lock()
	defer inf.dispatchMu.Unlock()

	listed := make(map[string]bool, len(items))
	for _, obj := range items {
		listed[KeyOf(obj)] = true
		inf.upsertLocked(obj)
	}
	var gone []string
	for _, key := range inf.store.ListKeys() {
		if !listed[key] {
			gone = append(gone, key)
		}
	}
	slices.Sort(gone) // a deterministic order for handlers and tests
	for _, key := range gone {
		old, _ := inf.store.Get(key)
		inf.store.Delete(key)
		inf.notifyDelete(old)
	}

	inf.setLastRV(rv)
	if !inf.HasSynced() {
		close(inf.synced)
	}
}

// watch applies events from a watch started at LastSyncResourceVersion
// until the watch ends. It returns nil when the server ended the watch
// normally, an error wrapping apierrors.ErrGone when our revision is
// compacted, and another error for any other failure. healthy reports
// whether the watch worked for a while, so the backoff may start over.
func (inf *Informer) watch(ctx context.Context) (healthy bool, err error) {
	rv := inf.LastSyncResourceVersion()
	w, err := inf.lw.Watch(ctx, rv)
	if err != nil {
		return false, fmt.Errorf("watch from resourceVersion %q: %w", rv, err)
	}
	defer w.Stop()

	start, events := time.Now(), 0
	defer func() { healthy = events > 0 || time.Since(start) >= shortWatch }()
	for {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case ev, ok := <-w.ResultChan():
			if !ok {
				if events == 0 && time.Since(start) < shortWatch {
					return false, fmt.Errorf("watch from resourceVersion %q ended at once with no events", rv)
				}
				return false, nil
			}
			if err := inf.apply(ev); err != nil {
				return false, err
			}
			events++
		}
	}
}

// apply puts one watch event into the Store and tells the handlers.
func (inf *Informer) apply(ev Event) error {
	if ev.Object == nil {
		return fmt.Errorf("watch event %s without an object", ev.Type)
	}
	switch ev.Type {
	case meta.Error:
		return watchError(ev.Object)
	case meta.Bookmark:
		// A bookmark only says "you are up to date to here": resuming
		// from it avoids replaying (or being refused) older history.
		inf.setLastRV(ev.Object.GetObjectMeta().ResourceVersion)
		return nil
	case meta.Added, meta.Modified:
		inf.dispatchMu.Lock()
		defer inf.dispatchMu.Unlock()
		inf.upsertLocked(ev.Object)
	case meta.Deleted:
		inf.dispatchMu.Lock()
		defer inf.dispatchMu.Unlock()
		inf.store.Delete(KeyOf(ev.Object))
		inf.notifyDelete(ev.Object)
	default:
		return fmt.Errorf("watch event of unknown type %q", ev.Type)
	}
	inf.setLastRV(ev.Object.GetObjectMeta().ResourceVersion)
	return nil
}

// watchError turns an ERROR event's object into an error.
func watchError(obj meta.Object) error {
	// Through any: the check must compile whether or not *meta.Status
	// itself implements meta.Object.
	st, ok := any(obj).(*meta.Status)
	if !ok {
		return fmt.Errorf("watch error event carrying a %T instead of a Status", obj)
	}
	return statusError(st)
}

// statusError turns the Status of an ERROR event into an error, wrapping
// apierrors.ErrGone when the server says our revision is compacted (code
// 410, whatever the reason: Kubernetes sends Expired, some servers Gone).
func statusError(st *meta.Status) error {
	err := apierrors.FromStatus(st)
	if st.Code == http.StatusGone || errors.Is(err, apierrors.ErrGone) {
		return fmt.Errorf("watch error event: %s: %w", st.Message, apierrors.ErrGone)
	}
	return fmt.Errorf("watch error event: %w", err)
}

// upsertLocked stores obj and tells the handlers how it differs from what
// the Store held: OnAdd for a new key; OnUpdate for a new resourceVersion;
// OnDelete then OnAdd when the name now belongs to another object (a new
// UID: deleted and re-created while we were not watching). Nothing happens
// for an unchanged resourceVersion. The caller holds dispatchMu.
func (inf *Informer) upsertLocked(obj meta.Object) {
	old, existed := inf.store.Get(KeyOf(obj))
	if existed && resourceVersion(old) == resourceVersion(obj) {
		return
	}
	inf.store.Add(obj)
	switch {
	case !existed:
		inf.notifyAdd(obj)
	case old.GetObjectMeta().UID != obj.GetObjectMeta().UID:
		inf.notifyDelete(old)
		inf.notifyAdd(obj)
	default:
		inf.notifyUpdate(old, obj)
	}
}

func resourceVersion(obj meta.Object) string { return obj.GetObjectMeta().ResourceVersion }

// resyncLoop calls OnUpdate(obj, obj) for every cached object every
// resync interval until ctx is done.
func (inf *Informer) resyncLoop(ctx context.Context) {
	t := time.NewTicker(inf.resync)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			inf.dispatchMu.Lock()
			for _, obj := range inf.store.List() {
				inf.notifyUpdate(obj, obj)
			}
			inf.dispatchMu.Unlock()
		}
	}
}

// The notify functions call every handler's func, skipping nil ones. The
// caller holds dispatchMu.

func (inf *Informer) notifyAdd(obj meta.Object) {
	for _, h := range inf.handlers {
		if h.OnAdd != nil {
			h.OnAdd(obj)
		}
	}
}

func (inf *Informer) notifyUpdate(old, obj meta.Object) {
	for _, h := range inf.handlers {
		if h.OnUpdate != nil {
			h.OnUpdate(old, obj)
		}
	}
}

func (inf *Informer) notifyDelete(obj meta.Object) {
	for _, h := range inf.handlers {
		if h.OnDelete != nil {
			h.OnDelete(obj)
		}
	}
}

// backoff is a jittered exponential backoff: each next waits between
// 1x and 1.5x the current step, capped at max, and doubles the step.
type backoff struct {
	min, max time.Duration
	step     time.Duration
}

func (b *backoff) reset() { b.step = b.min }

func (b *backoff) next() time.Duration {
	// Jitter spreads the retries of many clients after a server restart.
	d := min(b.step+rand.N(b.step/2+1), b.max)
	b.step = min(2*b.step, b.max)
	return d
}
