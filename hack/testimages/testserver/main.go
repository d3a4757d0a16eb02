// Command testserver is the program inside minik8s' "testserver" test image:
// a small HTTP server whose health can be flipped from outside, so that e2e
// tests can drive probes, restarts and logs deterministically.
//
// Endpoints (on --listen, default :8080, or $PORT):
//
//	/           "hello from <hostname>\n"
//	/hostname   "<hostname>\n" (in a pod: the pod's name)
//	/remote     the client's address as the server sees it ("10.244.1.5:41234\n")
//	/healthz    200 "ok", or 500 once /fail was requested (until /heal)
//	/fail       make /healthz fail
//	/heal       make /healthz succeed again
//	/exit       exit the process with ?code=N (default 0)
//	/env        the environment, one VAR=value a line
//	/kube       GET ?path=P from the API server as the pod's ServiceAccount
//	            (client.InCluster: the mounted token and CA, and
//	            KUBERNETES_SERVICE_HOST/PORT); answers "200" or the API's
//	            status code and message, e.g. "403 pods is forbidden: ..."
//
// Every request is printed to stdout, which is what log tests read.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/client"
)

func main() {
	addr := flag.String("listen", ":8080", "address to serve HTTP on ($PORT overrides the port)")
	flag.Parse()
	if p := os.Getenv("PORT"); p != "" {
		*addr = ":" + p
	}
	var failing atomic.Bool
	host, _ := os.Hostname()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s\n", host)
	})
	mux.HandleFunc("/hostname", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, host) })
	mux.HandleFunc("/remote", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, r.RemoteAddr) })
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			http.Error(w, "told to fail", http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) { failing.Store(true) })
	mux.HandleFunc("/heal", func(w http.ResponseWriter, r *http.Request) { failing.Store(false) })
	mux.HandleFunc("/env", func(w http.ResponseWriter, r *http.Request) {
		for _, kv := range os.Environ() {
			fmt.Fprintln(w, kv)
		}
	})
	mux.HandleFunc("/kube", func(w http.ResponseWriter, r *http.Request) {
		c, err := client.InCluster()
		if err != nil {
			fmt.Fprintf(w, "no in-cluster client: %v\n", err)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		if err := c.Do(ctx, http.MethodGet, r.URL.Query().Get("path"), nil, "", nil, nil); err != nil {
			fmt.Fprintf(w, "%d %v\n", apierrors.Code(err), err)
			return
		}
		fmt.Fprintln(w, "200")
	})
	mux.HandleFunc("/exit", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		fmt.Fprintf(w, "exiting with %d\n", code)
		go func() {
			// Let the response reach the client first.
			time.Sleep(50 * time.Millisecond)
			fmt.Printf("exit %d\n", code)
			os.Exit(code)
		}()
	})
	fmt.Printf("testserver listening on %s\n", *addr)
	log.Fatal(http.ListenAndServe(*addr, logged(mux)))
}

// logged prints each request line to stdout.
func logged(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Printf("%s %s\n", r.Method, r.URL.RequestURI())
		h.ServeHTTP(w, r)
	})
}
