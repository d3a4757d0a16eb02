package e2e

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/client"
	"minik8s/test/lincheck"
)

// history records client operations for porcupine; safe for concurrent use.
type history struct {
	start time.Time
	mu    sync.Mutex
	ops   []porcupine.Operation
}

func (h *history) now() int64 { return int64(time.Since(h.start)) }

func (h *history) add(op porcupine.Operation) {
	h.mu.Lock()
	h.ops = append(h.ops, op)
	h.mu.Unlock()
}

// casClient is one client of the linearizability test: read a key, then
// compare-and-swap it from the RV it read to a value no one else writes.
func casClient(ctx context.Context, c *client.Client, id int, keys []string, h *history) {
	rng := rand.New(rand.NewSource(int64(id)))
	for n := 0; ctx.Err() == nil; n++ {
		key := keys[rng.Intn(len(keys))]
		var cm core.ConfigMap
		call := h.now()
		octx, cancel := context.WithTimeout(ctx, time.Second)
		err := c.Get(octx, "default", key, &cm)
		cancel()
		ret := h.now()
		if err != nil {
			// A failed read changed nothing: it is left out of the history.
			time.Sleep(50 * time.Millisecond)
			continue
		}
		rv, _ := strconv.ParseUint(cm.ResourceVersion, 10, 64)
		h.add(porcupine.Operation{ClientId: id, Input: lincheck.Input{Key: key}, Call: call,
			Output: lincheck.Output{Value: cm.Data["v"], RV: rv}, Return: ret})

		in := lincheck.Input{Key: key, Write: true, ExpectRV: rv, Value: fmt.Sprintf("c%d-%d", id, n)}
		cm.Data = map[string]string{"v": in.Value}
		call = h.now()
		octx, cancel = context.WithTimeout(ctx, time.Second)
		err = c.Update(octx, &cm)
		cancel()
		ret = h.now()
		var out lincheck.Output
		switch {
		case err == nil:
			out.RV, _ = strconv.ParseUint(cm.ResourceVersion, 10, 64)
		case errors.Is(err, apierrors.ErrConflict):
			out.Conflict = true
		default:
			// No answer, or one that does not say whether the write
			// happened (the server died mid-request): it may have.
			out.Unknown, ret = true, math.MaxInt64
		}
		h.add(porcupine.Operation{ClientId: id, Input: in, Call: call, Output: out, Return: ret})
	}
}

// TestCASIsLinearizableUnderKill9: eight clients read and compare-and-swap
// three ConfigMaps for 20 s while the API server is killed with SIGKILL and
// restarted at random moments; porcupine checks the whole history against a
// resourceVersion CAS register (test/lincheck). Zero violations.
func TestCASIsLinearizableUnderKill9(t *testing.T) {
	dataDir := t.TempDir()
	addr := freeAddr(t)
	url := "http://" + addr
	api := start(t, "apiserver", "--listen", addr, "--data-dir", dataDir)
	waitReady(t, url)
	c, err := client.New(url)
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"lin-0", "lin-1", "lin-2"}
	for _, k := range keys {
		cm := &core.ConfigMap{ObjectMeta: meta.ObjectMeta{Name: k, Namespace: "default"}, Data: map[string]string{"v": lincheck.InitialValue}}
		if err := c.Create(context.Background(), cm); err != nil {
			t.Fatal(err)
		}
	}

	h := &history{start: time.Now()}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for id := 0; id < 8; id++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			casClient(ctx, c, id, keys, h)
		}()
	}
	// The fault: kill -9 at a random moment, restart on the same data
	// directory and address after a random pause, again and again.
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	kills := 0
	for {
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(1000+rng.Intn(2500)) * time.Millisecond):
		}
		if ctx.Err() != nil {
			break
		}
		api.kill()
		kills++
		time.Sleep(time.Duration(rng.Intn(500)) * time.Millisecond)
		api = start(t, "apiserver", "--listen", addr, "--data-dir", dataDir)
		waitReady(t, url)
	}
	wg.Wait()

	ops := h.ops
	counts := map[string]int{}
	for _, op := range ops {
		in, out := op.Input.(lincheck.Input), op.Output.(lincheck.Output)
		switch {
		case !in.Write:
			counts["read"]++
		case out.Unknown:
			counts["write unknown"]++
		case out.Conflict:
			counts["write 409"]++
		default:
			counts["write ok"]++
		}
	}
	if counts["write ok"] < 100 {
		t.Fatalf("only %v: too little traffic to test", counts)
	}
	begin := time.Now()
	res, info := porcupine.CheckOperationsVerbose(lincheck.Model(), ops, 2*time.Minute)
	t.Logf("linearizability: %d operations checked (%d reads, %d CAS ok, %d CAS 409, %d CAS unknown) across %d kill -9 of the API server: %s in %v",
		len(ops), counts["read"], counts["write ok"], counts["write 409"], counts["write unknown"], kills, res, time.Since(begin).Round(time.Millisecond))
	switch res {
	case porcupine.Ok:
	case porcupine.Illegal:
		viz := filepath.Join(os.TempDir(), fmt.Sprintf("minik8s-linearizability-%d.html", time.Now().Unix()))
		if err := porcupine.VisualizePath(lincheck.Model(), info, viz); err == nil {
			t.Logf("visualization: %s", viz)
		}
		t.Fatalf("the history is not linearizable")
	default:
		t.Fatalf("the checker timed out: result %s", res)
	}
	reliabilityRow(t, "linearizability", fmt.Sprintf("%d kill -9 of the API server in 20 s, 8 CAS clients on 3 ConfigMaps", kills),
		fmt.Sprintf("%d operations linearizable (%d reads, %d CAS ok, %d 409, %d unknown)", len(ops), counts["read"], counts["write ok"], counts["write 409"], counts["write unknown"]),
		time.Since(begin))
}
