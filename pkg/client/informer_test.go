package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/meta"
)

// wait bounds every wait for the informer: a liveness limit that fails the
// test, never a timing assertion.
const wait = 5 * time.Second

// fakeLW is a ListerWatcher the test scripts call by call: each List takes
// the next reply from lists; each Watch reports its resourceVersion on
// watches and then takes the next reply from watchReplies.
type fakeLW struct {
	lists        chan listReply
	watches      chan string
	watchReplies chan watchReply
	listCalls    atomic.Int32
}

type listReply struct {
	items []meta.Object
	rv    string
	err   error
}

type watchReply struct {
	w   *fakeWatcher
	err error
}

func (f *fakeLW) List(ctx context.Context) ([]meta.Object, string, error) {
	f.listCalls.Add(1)
	select {
	case r := <-f.lists:
		return r.items, r.rv, r.err
	case <-ctx.Done():
		return nil, "", ctx.Err()
	}
}

func (f *fakeLW) Watch(ctx context.Context, rv string) (Watcher, error) {
	select {
	case f.watches <- rv:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case r := <-f.watchReplies:
		if r.err != nil {
			return nil, r.err
		}
		return r.w, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// fakeWatcher delivers what the test sends on ch; the test closes ch to
// end the watch as a server would.
type fakeWatcher struct{ ch chan Event }

func (w *fakeWatcher) ResultChan() <-chan Event { return w.ch }
func (w *fakeWatcher) Stop()                    {}

// harness runs one Informer against a fakeLW and records its handler
// calls as lines like "add ns/a@1", "update ns/a@1->ns/a@2", "delete ns/b@2".
type harness struct {
	t     *testing.T
	lw    *fakeLW
	inf   *Informer
	calls chan string
}

func startInformer(t *testing.T, resync time.Duration) *harness {
	t.Helper()
	lw := &fakeLW{
		lists:        make(chan listReply),
		watches:      make(chan string),
		watchReplies: make(chan watchReply),
	}
	inf := NewInformer(lw, resync)
	inf.minBackoff, inf.maxBackoff = time.Millisecond, 10*time.Millisecond
	h := &harness{t: t, lw: lw, inf: inf, calls: make(chan string, 100)}
	inf.AddEventHandler(h.recorder())

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		inf.Run(ctx)
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(wait):
			t.Error("Run did not return after its context was cancelled")
		}
	})
	return h
}

func (h *harness) recorder() Handler {
	str := func(o meta.Object) string { return KeyOf(o) + "@" + o.GetObjectMeta().ResourceVersion }
	return Handler{
		OnAdd:    func(o meta.Object) { h.calls <- "add " + str(o) },
		OnUpdate: func(old, o meta.Object) { h.calls <- "update " + str(old) + "->" + str(o) },
		OnDelete: func(o meta.Object) { h.calls <- "delete " + str(o) },
	}
}

// replyList answers the informer's next List.
func (h *harness) replyList(items []meta.Object, rv string, err error) {
	h.t.Helper()
	select {
	case h.lw.lists <- listReply{items, rv, err}:
	case <-time.After(wait):
		h.t.Fatalf("informer did not List within %v", wait)
	}
}

// expectWatch waits for the informer's next Watch, checks the
// resourceVersion it resumes from, and answers with reply.
func (h *harness) expectWatch(wantRV string, reply watchReply) {
	h.t.Helper()
	select {
	case rv := <-h.lw.watches:
		if rv != wantRV {
			h.t.Fatalf("Watch from resourceVersion %q; want %q", rv, wantRV)
		}
	case <-time.After(wait):
		h.t.Fatalf("informer did not Watch (from %q) within %v", wantRV, wait)
	}
	select {
	case h.lw.watchReplies <- reply:
	case <-time.After(wait):
		h.t.Fatalf("informer did not take the Watch reply within %v", wait)
	}
}

// openWatch expects a Watch from wantRV and returns the watch it got.
func (h *harness) openWatch(wantRV string) *fakeWatcher {
	h.t.Helper()
	w := &fakeWatcher{ch: make(chan Event)}
	h.expectWatch(wantRV, watchReply{w: w})
	return w
}

func (h *harness) send(w *fakeWatcher, events ...Event) {
	h.t.Helper()
	for _, ev := range events {
		select {
		case w.ch <- ev:
		case <-time.After(wait):
			h.t.Fatalf("informer did not read watch event %s within %v", ev.Type, wait)
		}
	}
}

// expectCalls checks the next handler calls, in order.
func (h *harness) expectCalls(want ...string) {
	h.t.Helper()
	var got []string
	for range want {
		select {
		case c := <-h.calls:
			got = append(got, c)
		case <-time.After(wait):
			h.t.Fatalf("handler calls = %q, then nothing for %v; want %q", got, wait, want)
		}
	}
	if !slices.Equal(got, want) {
		h.t.Fatalf("handler calls = %q; want %q", got, want)
	}
}

// expectNoCalls checks that no handler call is pending. Call it only when
// the informer has visibly moved on (for example, to its next Watch), so
// everything before has been delivered.
func (h *harness) expectNoCalls() {
	h.t.Helper()
	if n := len(h.calls); n > 0 {
		h.t.Fatalf("%d unexpected handler calls, first %q", n, <-h.calls)
	}
}

func (h *harness) expectListCalls(want int) {
	h.t.Helper()
	if got := h.lw.listCalls.Load(); got != int32(want) {
		h.t.Fatalf("List called %d times; want %d", got, want)
	}
}

func (h *harness) waitForSync() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if !h.inf.WaitForSync(ctx) {
		h.t.Fatalf("informer not synced within %v", wait)
	}
}

// statusEvent returns an ERROR event carrying a Status with code, or skips
// the test while *meta.Status does not implement meta.Object (the contract
// of Event says ERROR events carry one).
func statusEvent(t *testing.T, code int32, reason string) Event {
	t.Helper()
	obj, ok := any(&meta.Status{Code: code, Reason: reason, Message: "test status"}).(meta.Object)
	if !ok {
		t.Skip("*meta.Status does not implement meta.Object yet")
	}
	return Event{Type: meta.Error, Object: obj}
}

func objs(o ...*testObj) []meta.Object {
	out := make([]meta.Object, len(o))
	for i := range o {
		out[i] = o[i]
	}
	return out
}

func TestInformerListsThenWatchesFromTheListRevision(t *testing.T) {
	h := startInformer(t, 0)
	if h.inf.HasSynced() {
		t.Fatal("HasSynced() before any list = true; want false")
	}
	h.replyList(objs(newObj("ns/a", "1"), newObj("ns/b", "2")), "2", nil)
	h.expectCalls("add ns/a@1", "add ns/b@2")
	h.waitForSync()

	w := h.openWatch("2")
	h.send(w,
		Event{Type: meta.Added, Object: newObj("ns/c", "3")},
		Event{Type: meta.Modified, Object: newObj("ns/a", "4")},
		Event{Type: meta.Deleted, Object: newObj("ns/b", "5")},
	)
	h.expectCalls("add ns/c@3", "update ns/a@1->ns/a@4", "delete ns/b@5")
	if got := keysOf(h.inf.Store().List()); !slices.Equal(got, []string{"ns/a", "ns/c"}) {
		t.Errorf("cache keys = %v; want [ns/a ns/c]", got)
	}
}

func TestInformerResumesFromLastRevisionWhenWatchCloses(t *testing.T) {
	h := startInformer(t, 0)
	h.replyList(objs(newObj("ns/a", "1")), "1", nil)
	h.expectCalls("add ns/a@1")

	w := h.openWatch("1")
	h.send(w, Event{Type: meta.Modified, Object: newObj("ns/a", "7")})
	h.expectCalls("update ns/a@1->ns/a@7")
	close(w.ch) // the server ends the watch (a timeout, an apiserver restart)

	h.openWatch("7") // resume, not relist
	h.expectListCalls(1)
	if got := h.inf.LastSyncResourceVersion(); got != "7" {
		t.Errorf("LastSyncResourceVersion() = %q; want %q", got, "7")
	}
}

func TestInformerBookmarkMovesResourceVersionOnly(t *testing.T) {
	h := startInformer(t, 0)
	h.replyList(objs(newObj("ns/a", "1")), "2", nil)
	h.expectCalls("add ns/a@1")

	w := h.openWatch("2")
	bookmark := &testObj{ObjectMeta: meta.ObjectMeta{ResourceVersion: "9"}}
	h.send(w, Event{Type: meta.Bookmark, Object: bookmark})
	close(w.ch)

	h.openWatch("9")
	h.expectNoCalls()
	h.expectListCalls(1)
}

// TestInformerRelistAfterGoneConverges is Kubernetes' reflector contract:
// once the watch's revision is compacted, a relist diffed against the
// cache yields exactly the changes that were missed.
func TestInformerRelistAfterGoneConverges(t *testing.T) {
	for _, tc := range []struct {
		name string
		// gone ends the watch w (opened from resourceVersion "3") with a 410.
		gone func(t *testing.T, h *harness, w *fakeWatcher)
	}{
		{"ERROR event with a 410 Status", func(t *testing.T, h *harness, w *fakeWatcher) {
			h.send(w, statusEvent(t, http.StatusGone, meta.ReasonExpired))
		}},
		{"ERROR event with code 410 and reason Gone", func(t *testing.T, h *harness, w *fakeWatcher) {
			h.send(w, statusEvent(t, http.StatusGone, meta.ReasonGone))
		}},
		{"Watch call fails with ErrGone", func(t *testing.T, h *harness, w *fakeWatcher) {
			close(w.ch)
			err := fmt.Errorf("watch pods: %w", apierrors.ErrGone)
			h.expectWatch("3", watchReply{err: err})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := startInformer(t, 0)
			h.replyList(objs(newObj("ns/a", "1"), newObj("ns/b", "2")), "2", nil)
			h.expectCalls("add ns/a@1", "add ns/b@2")

			w := h.openWatch("2")
			h.send(w, Event{Type: meta.Modified, Object: newObj("ns/a", "3")})
			h.expectCalls("update ns/a@1->ns/a@3")
			tc.gone(t, h, w)

			// Meanwhile a changed again, b was deleted and c created.
			relisted := objs(newObj("ns/a", "5"), newObj("ns/c", "4"))
			h.replyList(relisted, "6", nil)
			h.expectCalls("update ns/a@3->ns/a@5", "add ns/c@4", "delete ns/b@2")
			h.openWatch("6")

			store := h.inf.Store()
			if got := keysOf(store.List()); !slices.Equal(got, []string{"ns/a", "ns/c"}) {
				t.Fatalf("cache keys after relist = %v; want [ns/a ns/c]", got)
			}
			for _, want := range relisted {
				if got, _ := store.Get(KeyOf(want)); got != want {
					t.Errorf("cache[%s] = %v; want the relisted object %v", KeyOf(want), got, want)
				}
			}
		})
	}
}

func TestInformerRelistSeesRecreatedObjectAsDeleteAndAdd(t *testing.T) {
	h := startInformer(t, 0)
	h.replyList(objs(newObj("ns/a", "1")), "1", nil)
	h.expectCalls("add ns/a@1")
	h.expectWatch("1", watchReply{err: apierrors.ErrGone})

	recreated := newObj("ns/a", "8")
	recreated.UID = "another-uid"
	h.replyList(objs(recreated), "8", nil)
	h.expectCalls("delete ns/a@1", "add ns/a@8")
}

func TestInformerRetriesFailuresWithoutRelisting(t *testing.T) {
	h := startInformer(t, 0)
	h.replyList(nil, "", errors.New("connection refused"))
	h.replyList(objs(newObj("ns/a", "1")), "1", nil) // retried after backoff
	h.expectCalls("add ns/a@1")

	h.expectWatch("1", watchReply{err: errors.New("connection reset")})
	h.openWatch("1") // the same revision again: no relist needed
	h.expectListCalls(2)
	h.expectNoCalls()
}

func TestInformerRewatchesAfterErrorEventOtherThanGone(t *testing.T) {
	h := startInformer(t, 0)
	h.replyList(objs(newObj("ns/a", "1")), "1", nil)
	h.expectCalls("add ns/a@1")

	w := h.openWatch("1")
	h.send(w, statusEvent(t, http.StatusInternalServerError, meta.ReasonInternalError))
	h.openWatch("1")
	h.expectListCalls(1)
}

func TestStatusErrorIsGoneExactlyForCode410(t *testing.T) {
	for _, tc := range []struct {
		code   int32
		reason string
		gone   bool
	}{
		{http.StatusGone, meta.ReasonExpired, true},
		{http.StatusGone, meta.ReasonGone, true},
		{http.StatusGone, "", true},
		{http.StatusInternalServerError, meta.ReasonInternalError, false},
		{http.StatusTooManyRequests, meta.ReasonTooManyRequests, false},
	} {
		err := statusError(&meta.Status{Code: tc.code, Reason: tc.reason, Message: "m"})
		if got := errors.Is(err, apierrors.ErrGone); got != tc.gone {
			t.Errorf("Status{Code: %d, Reason: %q} is ErrGone = %v; want %v", tc.code, tc.reason, got, tc.gone)
		}
	}
}

func TestInformerResyncCallsOnUpdateWithTheSameObject(t *testing.T) {
	h := startInformer(t, time.Millisecond)
	h.replyList(objs(newObj("ns/a", "1")), "1", nil)
	h.expectCalls("add ns/a@1")
	h.expectCalls("update ns/a@1->ns/a@1")
}

func TestAddEventHandlerAfterSyncReplaysTheCache(t *testing.T) {
	h := startInformer(t, 0)
	h.replyList(objs(newObj("ns/a", "1"), newObj("b", "2")), "2", nil)
	h.expectCalls("add ns/a@1", "add b@2")
	h.waitForSync()

	late := make(chan string, 10)
	h.inf.AddEventHandler(Handler{OnAdd: func(o meta.Object) { late <- KeyOf(o) }})
	close(late) // the replay happens inside AddEventHandler
	var got []string
	for k := range late {
		got = append(got, k)
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"b", "ns/a"}) {
		t.Errorf("late handler got OnAdd for %v; want [b ns/a]", got)
	}
}

func TestWaitForSyncGivesUpWhenContextIsDone(t *testing.T) {
	h := startInformer(t, 0) // never answers List
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if h.inf.WaitForSync(ctx) {
		t.Errorf("WaitForSync with a cancelled context and no list = true; want false")
	}
}
