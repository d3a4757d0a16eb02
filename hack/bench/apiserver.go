package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"minik8s/pkg/apiserver"
	"minik8s/pkg/store"
)

const workers = 16

// benchAPIServer measures, on the same machine and etcd: raw etcd
// compare-and-swap Txn puts from 16 goroutines through a gRPC client on
// loopback (the baseline), and the API server over HTTP from 16 concurrent
// clients: create, get, update (PUT with resourceVersion) and list of 1,000
// objects, with throughput and p50/p99 latency.
func benchAPIServer(dur time.Duration) string {

	dir, err := os.MkdirTemp("", "minik8s-bench-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	etcdURL := "http://" + l.Addr().String()
	l.Close()
	e, err := store.StartEmbedded(store.EmbedConfig{Dir: dir, ClientURL: etcdURL})
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()

	var rows []result
	raw := benchRawEtcd(etcdURL, dur)
	rows = append(rows, raw)

	st := store.NewEtcd(e.Client)
	srv, err := apiserver.New(apiserver.Config{Store: st})
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Bootstrap(context.Background()); err != nil {
		log.Fatal(err)
	}
	hl, _ := net.Listen("tcp", "127.0.0.1:0")
	hs := &http.Server{Handler: srv.Handler()}
	go hs.Serve(hl)
	defer hs.Close()
	base := "http://" + hl.Addr().String() + "/api/v1/namespaces/default/configmaps"
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers * 2, Proxy: nil}}

	create := run("apiserver create (POST)", dur, func(w, i int) error {
		body := fmt.Sprintf(`{"metadata":{"name":"c-%d-%d","labels":{"bench":"x"}},"data":{"k":"v"}}`, w, i)
		return expect(hc, "POST", base, body, 201)
	})
	rows = append(rows, create)
	get := run("apiserver get", dur, func(w, i int) error {
		return expect(hc, "GET", fmt.Sprintf("%s/c-%d-%d", base, w, i%max(1, create.perWorker[w])), "", 200)
	})
	rows = append(rows, get)
	// Each worker updates its own object, so every PUT carries the current
	// resourceVersion (returned by its previous PUT) and none conflicts.
	rvs := make([]string, workers)
	for w := range rvs {
		rvs[w] = fetchRV(hc, fmt.Sprintf("%s/c-%d-0", base, w))
	}
	update := run("apiserver update (PUT + resourceVersion)", dur, func(w, i int) error {
		body := fmt.Sprintf(`{"metadata":{"name":"c-%d-0","resourceVersion":%q,"labels":{"bench":"x"}},"data":{"k":"%d"}}`, w, rvs[w], i)
		rv, err := putRV(hc, fmt.Sprintf("%s/c-%d-0", base, w), body)
		rvs[w] = rv
		return err
	})
	rows = append(rows, update)
	// List exactly 1,000 objects: a fresh namespace holds them.
	expect(hc, "POST", strings.TrimSuffix(base, "/default/configmaps"), `{"metadata":{"name":"list1000"}}`, 201)
	lbase := strings.Replace(base, "/default/", "/list1000/", 1)
	for i := 0; i < 1000; i++ {
		if err := expect(hc, "POST", lbase, fmt.Sprintf(`{"metadata":{"name":"l-%d"},"data":{"k":"v"}}`, i), 201); err != nil {
			log.Fatal(err)
		}
	}
	list := run("apiserver list (1,000 objects)", dur, func(w, i int) error {
		return expect(hc, "GET", lbase, "", 200)
	})
	rows = append(rows, list)

	return render(rows, raw, create)
}

type result struct {
	name      string
	ops       int64
	errors    int64
	elapsed   time.Duration
	lat       []time.Duration
	perWorker []int
}

func (r result) rate() float64 { return float64(r.ops) / r.elapsed.Seconds() }

func (r result) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[int(float64(len(r.lat)-1)*p)]
}

// run calls op from 16 goroutines for d and collects latencies.
func run(name string, d time.Duration, op func(worker, i int) error) result {
	var ops, errs atomic.Int64
	lats := make([][]time.Duration, workers)
	per := make([]int, workers)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				t0 := time.Now()
				if err := op(w, i); err != nil {
					errs.Add(1)
					if errs.Load() < 5 {
						log.Printf("%s: %v", name, err)
					}
					continue
				}
				lats[w] = append(lats[w], time.Since(t0))
				per[w]++
				ops.Add(1)
			}
		}(w)
	}
	wg.Wait()
	r := result{name: name, ops: ops.Load(), errors: errs.Load(), elapsed: time.Since(start), perWorker: per}
	for _, l := range lats {
		r.lat = append(r.lat, l...)
	}
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	log.Printf("%-45s %8.0f/s  p50 %v  p99 %v  errors %d", name, r.rate(), r.pct(0.5), r.pct(0.99), r.errors)
	return r
}

// benchRawEtcd measures CAS Txn puts through a gRPC client on loopback,
// the same transaction shape the API server's create uses.
func benchRawEtcd(url string, d time.Duration) result {
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{url}, DialTimeout: 5 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	defer cli.Close()
	ctx := context.Background()
	val := strings.Repeat("x", 300) // about the size of a small object's JSON
	return run("raw etcd CAS Txn put (gRPC, loopback)", d, func(w, i int) error {
		key := fmt.Sprintf("/bench/raw/%d/%d", w, i)
		_, err := cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
			Then(clientv3.OpPut(key, val)).Commit()
		return err
	})
}

func expect(hc *http.Client, method, url, body string, code int) error {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != code {
		return fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
	return nil
}

func fetchRV(hc *http.Client, url string) string {
	resp, err := hc.Get(url)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return extractRV(b)
}

func putRV(hc *http.Client, url, body string) (string, error) {
	req, _ := http.NewRequest("PUT", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("PUT: %d %s", resp.StatusCode, b)
	}
	return extractRV(b), nil
}

func extractRV(b []byte) string {
	const k = `"resourceVersion":"`
	i := bytes.Index(b, []byte(k))
	if i < 0 {
		return ""
	}
	rest := b[i+len(k):]
	return string(rest[:bytes.IndexByte(rest, '"')])
}

func render(rows []result, raw, create result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## API server vs raw etcd\n\n")
	fmt.Fprintf(&b, "Measured %s on %d cores (%s/%s, %s), %d concurrent clients, embedded etcd 3.6 in one data directory.\n\n",
		time.Now().UTC().Format("2006-01-02"), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), workers)
	fmt.Fprintf(&b, "| operation | ops/s | p50 | p99 | errors |\n|---|---:|---:|---:|---:|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %.0f | %s | %s | %d |\n", r.name, r.rate(), ms(r.pct(0.5)), ms(r.pct(0.99)), r.errors)
	}
	ratio := create.rate() / raw.rate()
	fmt.Fprintf(&b, "\nAPI creates / raw etcd CAS puts: **%.2f** (target ≥ 0.50). Create p99: **%s** (target ≤ 50 ms).\n\n", ratio, ms(create.pct(0.99)))
	fmt.Fprintf(&b, "Reproduce: `go run ./hack/bench -out docs/benchmarks.md apiserver` (or `make bench`). The load generator runs in the same process and competes for the same cores, so the API figures are a lower bound.\n")
	return b.String()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
