package apiserver

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/client"
)

type write struct {
	typ, name, rv string
}

// makeHistory performs creates, updates and deletes of ConfigMaps and
// returns each acknowledged write with its resourceVersion.
func makeHistory(t *testing.T, c *client.Client, n int) []write {
	t.Helper()
	ctx := context.Background()
	k, _ := apis.ByResource("", "configmaps")
	var h []write
	for i := 0; i < n; i++ {
		name := "h" + strconv.Itoa(i%4)
		var cur core.ConfigMap
		err := c.Get(ctx, "default", name, &cur)
		switch {
		case errors.Is(err, apierrors.ErrNotFound):
			cm := &core.ConfigMap{ObjectMeta: meta.ObjectMeta{Name: name, Namespace: "default"}}
			if err := c.Create(ctx, cm); err != nil {
				t.Fatal(err)
			}
			h = append(h, write{meta.Added, name, cm.ResourceVersion})
		case err != nil:
			t.Fatal(err)
		case i%3 == 0:
			if err := c.Delete(ctx, k, "default", name, nil); err != nil {
				t.Fatal(err)
			}
			// The delete's revision is the next revision after the last
			// write; learn it from the watch below.
			h = append(h, write{meta.Deleted, name, ""})
		default:
			cur.Data = map[string]string{"i": strconv.Itoa(i)}
			if err := c.Update(ctx, &cur); err != nil {
				t.Fatal(err)
			}
			h = append(h, write{meta.Modified, name, cur.ResourceVersion})
		}
	}
	return h
}

// TestWatchResumesExactlyOnceInOrder: a watch resumed from the revision of
// write X receives every later write exactly once, in order.
func TestWatchResumesExactlyOnceInOrder(t *testing.T) {
	s := newTestServer(t)
	k, _ := apis.ByResource("", "configmaps")
	history := makeHistory(t, s.client, 40)
	for _, from := range []int{0, 7, 20, 39} {
		if history[from].rv == "" {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		w, err := s.client.Watch(ctx, k, "default", client.ListOptions{ResourceVersion: history[from].rv})
		if err != nil {
			t.Fatal(err)
		}
		want := history[from+1:]
		var last int64
		for i := 0; i < len(want); {
			ev, ok := <-w.ResultChan()
			if !ok {
				t.Fatalf("from %d: watch ended after %d of %d events", from, i, len(want))
			}
			if ev.Type == meta.Bookmark {
				continue
			}
			m := ev.Object.GetObjectMeta()
			rv, _ := strconv.ParseInt(m.ResourceVersion, 10, 64)
			if ev.Type != want[i].typ || m.Name != want[i].name || (want[i].rv != "" && m.ResourceVersion != want[i].rv) || rv <= last {
				t.Fatalf("from %d, event %d: got %s %s@%s; want %s %s@%s after %d", from, i, ev.Type, m.Name, m.ResourceVersion,
					want[i].typ, want[i].name, want[i].rv, last)
			}
			last = rv
			i++
		}
		select {
		case ev := <-w.ResultChan():
			if ev.Type != meta.Bookmark {
				t.Errorf("from %d: extra event %s %s", from, ev.Type, ev.Object.GetObjectMeta().Name)
			}
		case <-time.After(200 * time.Millisecond):
		}
		cancel()
	}
}

func TestWatchFromCompactedRevisionIsGone(t *testing.T) {
	s := newTestServer(t)
	k, _ := apis.ByResource("", "configmaps")
	history := makeHistory(t, s.client, 10)
	rev, _ := s.store.Revision(context.Background())
	if err := s.store.Compact(context.Background(), rev); err != nil {
		t.Fatal(err)
	}
	w, err := s.client.Watch(context.Background(), k, "default", client.ListOptions{ResourceVersion: history[0].rv})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	select {
	case ev := <-w.ResultChan():
		st, ok := ev.Object.(*meta.Status)
		if ev.Type != meta.Error || !ok || st.Code != 410 || st.Reason != meta.ReasonExpired {
			t.Fatalf("got %s %+v; want an ERROR event with a 410 Expired Status", ev.Type, ev.Object)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
}

func TestWatchWithSelectorSeesObjectsEnterAndLeave(t *testing.T) {
	s := newTestServer(t)
	k, _ := apis.ByResource("", "configmaps")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	w, err := s.client.Watch(ctx, k, "default", client.ListOptions{LabelSelector: "team=a"})
	if err != nil {
		t.Fatal(err)
	}
	cm := &core.ConfigMap{ObjectMeta: meta.ObjectMeta{Name: "x", Namespace: "default", Labels: map[string]string{"team": "b"}}}
	s.client.Create(ctx, cm)
	cm.Labels["team"] = "a"
	s.client.Update(ctx, cm)
	cm.Labels["team"] = "c"
	s.client.Update(ctx, cm)
	var got []string
	for len(got) < 2 {
		select {
		case ev := <-w.ResultChan():
			if ev.Type != meta.Bookmark {
				got = append(got, ev.Type)
			}
		case <-ctx.Done():
			t.Fatalf("got %v; want [ADDED DELETED]", got)
		}
	}
	if got[0] != meta.Added || got[1] != meta.Deleted {
		t.Errorf("got %v; want [ADDED DELETED]", got)
	}
}

// gatedLW holds the informer's watches until the test opens the gate, so
// the test can move the store (and compact it) past the informer's list.
type gatedLW struct {
	client.ListerWatcher
	gate chan struct{}
}

func (g *gatedLW) Watch(ctx context.Context, rv string) (client.Watcher, error) {
	select {
	case <-g.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return g.ListerWatcher.Watch(ctx, rv)
}

// TestInformerRelistsAfterCompaction: an informer whose watch revision was
// compacted gets 410, relists, and its cache converges to the server's.
func TestInformerRelistsAfterCompaction(t *testing.T) {
	s := newTestServer(t)
	k, _ := apis.ByResource("", "configmaps")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := 0; i < 5; i++ {
		s.client.Create(ctx, &core.ConfigMap{ObjectMeta: meta.ObjectMeta{Name: "c" + strconv.Itoa(i), Namespace: "default"}})
	}
	lw := &gatedLW{ListerWatcher: s.client.ListWatch(k, "default", client.ListOptions{}), gate: make(chan struct{})}
	inf := client.NewInformer(lw, 0)
	var mu sync.Mutex
	deleted := map[string]bool{}
	inf.AddEventHandler(client.Handler{OnDelete: func(obj meta.Object) {
		mu.Lock()
		deleted[obj.GetObjectMeta().Name] = true
		mu.Unlock()
	}})
	go inf.Run(ctx)
	if !inf.WaitForSync(ctx) {
		t.Fatal("informer did not sync")
	}
	// Change the world while the informer cannot watch, then compact.
	s.client.Delete(ctx, k, "default", "c0", nil)
	s.client.Delete(ctx, k, "default", "c1", nil)
	s.client.Create(ctx, &core.ConfigMap{ObjectMeta: meta.ObjectMeta{Name: "new", Namespace: "default"}})
	rev, _ := s.store.Revision(ctx)
	s.store.Compact(ctx, rev)
	close(lw.gate)
	deadline := time.Now().Add(15 * time.Second)
	want := map[string]bool{"c2": true, "c3": true, "c4": true, "new": true}
	for {
		keys := inf.Store().ListKeys()
		got := map[string]bool{}
		for _, key := range keys {
			_, name := client.SplitKey(key)
			got[name] = true
		}
		mu.Lock()
		ok := len(got) == len(want) && deleted["c0"] && deleted["c1"]
		mu.Unlock()
		for name := range want {
			ok = ok && got[name]
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("cache %v, deleted %v; want %v and c0, c1 deleted", keys, deleted, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
