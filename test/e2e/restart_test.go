package e2e

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/client"
)

// TestKill9KeepsAcknowledgedWrites: writers create objects and bump a
// counter while the apiserver is killed with SIGKILL mid-traffic. After a
// restart on the same data directory every acknowledged create is there,
// and the counter is at least its last acknowledged value.
func TestKill9KeepsAcknowledgedWrites(t *testing.T) {
	dataDir := t.TempDir()
	p, url := startAPIServer(t, dataDir)
	c, err := client.New(url)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	counter := &core.ConfigMap{ObjectMeta: meta.ObjectMeta{Name: "counter", Namespace: "default"}, Data: map[string]string{"n": "0"}}
	if err := c.Create(ctx, counter); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	acked := map[string]bool{}
	lastCount := 0
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				name := fmt.Sprintf("w%d-%d", w, i)
				cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				err := c.Create(cctx, &core.ConfigMap{ObjectMeta: meta.ObjectMeta{Name: name, Namespace: "default"}})
				if err == nil {
					mu.Lock()
					acked[name] = true
					mu.Unlock()
				}
				if w == 0 {
					var cur core.ConfigMap
					if c.Get(cctx, "default", "counter", &cur) == nil {
						n, _ := strconv.Atoi(cur.Data["n"])
						cur.Data["n"] = strconv.Itoa(n + 1)
						if c.Update(cctx, &cur) == nil {
							mu.Lock()
							lastCount = n + 1
							mu.Unlock()
						}
					}
				}
				cancel()
				if err != nil {
					time.Sleep(20 * time.Millisecond)
				}
			}
		}(w)
	}
	time.Sleep(2 * time.Second)
	p.kill()
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	mu.Lock()
	nAcked := len(acked)
	mu.Unlock()
	if nAcked < 50 {
		t.Fatalf("only %d writes acknowledged before the kill: too little traffic to test", nAcked)
	}
	// Restart on the same data directory, on a new port.
	_, url2 := startAPIServer(t, dataDir)
	c2, _ := client.New(url2)
	missing := 0
	for name := range acked {
		var cm core.ConfigMap
		if err := c2.Get(ctx, "default", name, &cm); err != nil {
			if !errors.Is(err, apierrors.ErrNotFound) {
				t.Fatal(err)
			}
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged creates lost across kill -9", missing, nAcked)
	}
	var cur core.ConfigMap
	if err := c2.Get(ctx, "default", "counter", &cur); err != nil {
		t.Fatal(err)
	}
	if n, _ := strconv.Atoi(cur.Data["n"]); n < lastCount {
		t.Errorf("counter %d after restart; last acknowledged value was %d", n, lastCount)
	}
	t.Logf("%d acknowledged creates and counter=%d all survived kill -9", nAcked, lastCount)
}
