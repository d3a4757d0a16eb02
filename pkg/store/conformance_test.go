package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"minik8s/pkg/apis/apierrors"
)

// newTestEtcd starts an embedded etcd in a temp dir for one test.
func newTestEtcd(t testing.TB) *Etcd {
	t.Helper()
	e, err := StartEmbedded(EmbedConfig{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return NewEtcd(e.Client)
}

// TestConformance runs the store contract against every implementation.
func TestConformance(t *testing.T) {
	impls := map[string]func(t *testing.T) Store{
		"embedded-etcd": func(t *testing.T) Store { return newTestEtcd(t) },
		"external-etcd": startExternalEtcd,
	}
	tests := []struct {
		name string
		run  func(t *testing.T, s Store)
	}{
		{"CreateThenGet", testCreateGet},
		{"CreateTwiceIsAlreadyExists", testCreateTwice},
		{"UpdateIsCompareAndSwap", testUpdateCAS},
		{"DeleteWithPreconditions", testDelete},
		{"ListPagesAtOneRevision", testListPaging},
		{"WatchDeliversEveryChangeOnceInOrder", testWatchOrder},
		{"WatchFromCompactedRevisionIsGone", testWatchCompacted},
		{"GuaranteedUpdateLosesNothing", testGuaranteedUpdate},
	}
	for implName, newStore := range impls {
		for _, tt := range tests {
			t.Run(implName+"/"+tt.name, func(t *testing.T) { tt.run(t, newStore(t)) })
		}
	}
}

func testCreateGet(t *testing.T, s Store) {
	ctx := context.Background()
	rev, err := s.Create(ctx, "/a/x", []byte("1"))
	if err != nil {
		t.Fatal(err)
	}
	kv, err := s.Get(ctx, "/a/x")
	if err != nil {
		t.Fatal(err)
	}
	if string(kv.Value) != "1" || kv.ModRevision != rev || kv.CreateRevision != rev {
		t.Errorf("got %q rev %d/%d; want \"1\" rev %d", kv.Value, kv.ModRevision, kv.CreateRevision, rev)
	}
	if _, err := s.Get(ctx, "/a/missing"); !errors.Is(err, apierrors.ErrNotFound) {
		t.Errorf("get missing: got %v; want ErrNotFound", err)
	}
}

func testCreateTwice(t *testing.T, s Store) {
	ctx := context.Background()
	if _, err := s.Create(ctx, "/a/x", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, "/a/x", []byte("2")); !errors.Is(err, apierrors.ErrAlreadyExists) {
		t.Fatalf("second create: got %v; want ErrAlreadyExists", err)
	}
	kv, _ := s.Get(ctx, "/a/x")
	if string(kv.Value) != "1" {
		t.Errorf("value after failed create: got %q; want \"1\"", kv.Value)
	}
}

func testUpdateCAS(t *testing.T, s Store) {
	ctx := context.Background()
	rev, _ := s.Create(ctx, "/a/x", []byte("1"))
	kv, err := s.Update(ctx, "/a/x", []byte("2"), rev)
	if err != nil {
		t.Fatal(err)
	}
	if kv.ModRevision <= rev {
		t.Errorf("new revision %d not after %d", kv.ModRevision, rev)
	}
	cur, err := s.Update(ctx, "/a/x", []byte("3"), rev) // stale
	if !errors.Is(err, apierrors.ErrConflict) {
		t.Fatalf("stale update: got %v; want ErrConflict", err)
	}
	if string(cur.Value) != "2" || cur.ModRevision != kv.ModRevision {
		t.Errorf("conflict returned %q@%d; want \"2\"@%d", cur.Value, cur.ModRevision, kv.ModRevision)
	}
	if _, err := s.Update(ctx, "/a/missing", []byte("1"), 5); !errors.Is(err, apierrors.ErrNotFound) {
		t.Errorf("update missing: got %v; want ErrNotFound", err)
	}
}

func testDelete(t *testing.T, s Store) {
	ctx := context.Background()
	rev, _ := s.Create(ctx, "/a/x", []byte("1"))
	if _, err := s.Delete(ctx, "/a/x", rev+100); !errors.Is(err, apierrors.ErrConflict) {
		t.Fatalf("delete with wrong revision: got %v; want ErrConflict", err)
	}
	kv, err := s.Delete(ctx, "/a/x", rev)
	if err != nil {
		t.Fatal(err)
	}
	if string(kv.Value) != "1" || kv.ModRevision <= rev {
		t.Errorf("deleted kv %q@%d; want \"1\" after %d", kv.Value, kv.ModRevision, rev)
	}
	if _, err := s.Delete(ctx, "/a/x", 0); !errors.Is(err, apierrors.ErrNotFound) {
		t.Errorf("second delete: got %v; want ErrNotFound", err)
	}
}

func testListPaging(t *testing.T, s Store) {
	ctx := context.Background()
	for i := 0; i < 10; i++ {
		s.Create(ctx, fmt.Sprintf("/p/k%02d", i), []byte(strconv.Itoa(i)))
	}
	s.Create(ctx, "/q/other", []byte("x")) // outside the prefix
	first, err := s.List(ctx, "/p/", ListOptions{Limit: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.KVs) != 4 || !first.More {
		t.Fatalf("first page: got %d keys more=%v; want 4 more=true", len(first.KVs), first.More)
	}
	// Writes between pages must not show up: the list is one revision.
	s.Create(ctx, "/p/k05a", []byte("new"))
	var keys []string
	for _, kv := range first.KVs {
		keys = append(keys, kv.Key)
	}
	page := first
	for page.More {
		next := page.KVs[len(page.KVs)-1].Key + "\x00"
		page, err = s.List(ctx, "/p/", ListOptions{Limit: 4, StartKey: next, Revision: first.Revision})
		if err != nil {
			t.Fatal(err)
		}
		for _, kv := range page.KVs {
			keys = append(keys, kv.Key)
		}
	}
	if len(keys) != 10 {
		t.Fatalf("got %d keys %v; want the 10 from the first revision", len(keys), keys)
	}
	for i, k := range keys {
		if want := fmt.Sprintf("/p/k%02d", i); k != want {
			t.Errorf("key %d: got %s; want %s", i, k, want)
		}
	}
}

func testWatchOrder(t *testing.T, s Store) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start, _ := s.Create(ctx, "/w/seed", []byte("0"))
	// Record a write history from several writers, then check a watch from
	// start sees exactly that history, in revision order.
	var mu sync.Mutex
	history := map[int64]string{} // revision -> key
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			key := fmt.Sprintf("/w/k%d", w)
			rev, err := s.Create(ctx, key, []byte("0"))
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			history[rev] = key
			mu.Unlock()
			for i := 1; i <= 20; i++ {
				kv, err := s.Update(ctx, key, []byte(strconv.Itoa(i)), rev)
				if err != nil {
					t.Error(err)
					return
				}
				rev = kv.ModRevision
				mu.Lock()
				history[rev] = key
				mu.Unlock()
			}
			kv, err := s.Delete(ctx, key, rev)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			history[kv.ModRevision] = key
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	ch, err := s.Watch(ctx, "/w/", start)
	if err != nil {
		t.Fatal(err)
	}
	var last int64 = start
	seen := 0
	timeout := time.After(10 * time.Second)
	for seen < len(history) {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatal("watch closed early")
			}
			if ev.Type == Bookmark {
				continue
			}
			if ev.Type == Error {
				t.Fatal(ev.Err)
			}
			if ev.Revision <= last {
				t.Fatalf("event at revision %d after %d: out of order or duplicate", ev.Revision, last)
			}
			last = ev.Revision
			if history[ev.Revision] != ev.KV.Key {
				t.Fatalf("revision %d: watch says %s; history says %q", ev.Revision, ev.KV.Key, history[ev.Revision])
			}
			seen++
		case <-timeout:
			t.Fatalf("saw %d of %d events", seen, len(history))
		}
	}
}

func testWatchCompacted(t *testing.T, s Store) {
	ctx := context.Background()
	rev, _ := s.Create(ctx, "/c/x", []byte("1"))
	kv, _ := s.Update(ctx, "/c/x", []byte("2"), rev)
	s.Update(ctx, "/c/x", []byte("3"), kv.ModRevision)
	if err := s.Compact(ctx, kv.ModRevision+1); err != nil {
		t.Fatal(err)
	}
	ch, err := s.Watch(ctx, "/c/", rev)
	if err != nil {
		if !errors.Is(err, apierrors.ErrGone) {
			t.Fatalf("got %v; want ErrGone", err)
		}
		return
	}
	select {
	case ev := <-ch:
		if ev.Type != Error || !errors.Is(ev.Err, apierrors.ErrGone) {
			t.Fatalf("got event %+v; want an Error event with ErrGone", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event from a watch on a compacted revision")
	}
	if _, err := s.List(ctx, "/c/", ListOptions{Revision: rev}); !errors.Is(err, apierrors.ErrGone) {
		t.Errorf("list at compacted revision: got %v; want ErrGone", err)
	}
}

func testGuaranteedUpdate(t *testing.T, s Store) {
	ctx := context.Background()
	s.Create(ctx, "/g/counter", []byte("0"))
	const workers, each = 8, 25
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				_, err := GuaranteedUpdate(ctx, s, "/g/counter", func(cur KV) ([]byte, error) {
					n, err := strconv.Atoi(string(cur.Value))
					return []byte(strconv.Itoa(n + 1)), err
				})
				if err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	kv, _ := s.Get(ctx, "/g/counter")
	if got := string(kv.Value); got != strconv.Itoa(workers*each) {
		t.Errorf("counter: got %s; want %d", got, workers*each)
	}
}

func TestBookmarksReportProgress(t *testing.T) {
	s := newTestEtcd(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := s.Watch(ctx, "/idle/", 0)
	if err != nil {
		t.Fatal(err)
	}
	rev, _ := s.Create(ctx, "/elsewhere/x", []byte("1"))
	go s.RunBookmarks(ctx, 50*time.Millisecond)
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-ch:
			if ev.Type == Bookmark && ev.Revision >= rev {
				return
			}
		case <-deadline:
			t.Fatalf("no bookmark at or after revision %d", rev)
		}
	}
}

// TestCompactorKeepsOneInterval: the compactor compacts to the revision it
// saw one tick earlier, so recent history stays and older history goes.
func TestCompactorKeepsOneInterval(t *testing.T) {
	s := newTestEtcd(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	old, _ := s.Create(ctx, "/k/old", []byte("1"))
	s.Update(ctx, "/k/old", []byte("2"), old)
	go s.RunCompactor(ctx, 100*time.Millisecond)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := s.List(ctx, "/k/", ListOptions{Revision: old})
		if errors.Is(err, apierrors.ErrGone) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("revision %d still readable after 10s of compaction ticks (err %v)", old, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The latest revision is always readable.
	rev, _ := s.Revision(ctx)
	if _, err := s.List(ctx, "/k/", ListOptions{Revision: rev}); err != nil {
		t.Errorf("current revision %d: %v", rev, err)
	}
}
