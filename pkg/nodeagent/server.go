package nodeagent

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"minik8s/pkg/apis/core"
)

// handler is the agent's HTTP API: /healthz, /metrics, and the kubelet's
// container log endpoint the API server proxies `kubectl logs` to.
func (a *Agent) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprintf(w, "# TYPE nodeagent_pod_syncs_total counter\nnodeagent_pod_syncs_total %d\n", a.syncs.Load())
		fmt.Fprintf(w, "# TYPE nodeagent_pod_sync_errors_total counter\nnodeagent_pod_sync_errors_total %d\n", a.syncErrors.Load())
		fmt.Fprintf(w, "# TYPE nodeagent_container_starts_total counter\nnodeagent_container_starts_total %d\n", a.starts.Load())
		fmt.Fprintf(w, "# TYPE nodeagent_pods gauge\nnodeagent_pods %d\n", len(a.pods.Store().ListKeys()))
	})
	mux.HandleFunc("GET /containerLogs/{ns}/{pod}/{container}", a.serveLogs)
	return mux
}

// serverTLS is the TLS configuration of the agent's API when the agent
// authenticates to the API server with a client certificate (a node
// certificate from `minik8s certs init` is valid for serving too, for the
// node's name): that certificate, and client certificates verified by the
// cluster CA. Nil: plain HTTP (a cluster without TLS).
func (a *Agent) serverTLS() *tls.Config {
	cert, ca := a.client.ClientCertificate(), a.client.CAData()
	if cert == nil || ca == nil {
		return nil
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil
	}
	return &tls.Config{Certificates: []tls.Certificate{*cert}, ClientCAs: pool,
		ClientAuth: tls.VerifyClientCertIfGiven, MinVersion: tls.VersionTLS12}
}

// onlyAPIServer lets through /healthz for anyone and everything else only
// for the API server's kubelet client identity (CN
// kube-apiserver-kubelet-client) or a cluster admin (group
// system:masters): 401 without a verified client certificate, 403 for
// anyone else — a node cannot read another node's logs.
func onlyAPIServer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			next.ServeHTTP(w, r)
			return
		}
		if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
			http.Error(w, "Unauthorized: a client certificate from the cluster CA is required", http.StatusUnauthorized)
			return
		}
		leaf := r.TLS.VerifiedChains[0][0].Subject
		if leaf.CommonName != "kube-apiserver-kubelet-client" && !slices.Contains(leaf.Organization, "system:masters") {
			http.Error(w, fmt.Sprintf("Forbidden: user %q may not use the node agent's API", leaf.CommonName), http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// serveLogs is GET /containerLogs/{ns}/{pod}/{container}?follow=&tailLines=
// &timestamps=&previous=&sinceSeconds=&sinceTime=&limitBytes= (the
// kubelet's path and parameters).
func (a *Agent) serveLogs(w http.ResponseWriter, r *http.Request) {
	ns, name, container := r.PathValue("ns"), r.PathValue("pod"), r.PathValue("container")
	opts, err := parseLogOptions(r.URL.Query())
	if err != nil {
		http.Error(w, "bad log options: "+err.Error(), http.StatusBadRequest)
		return
	}
	obj, ok := a.pods.Store().Get(ns + "/" + name)
	if !ok {
		http.Error(w, fmt.Sprintf("pod %s/%s not found on node %s", ns, name, a.cfg.NodeName), http.StatusNotFound)
		return
	}
	pod := obj.(*core.Pod)
	if _, ok := findContainer(pod, container); !ok {
		http.Error(w, fmt.Sprintf("container %s is not valid for pod %s", container, name), http.StatusBadRequest)
		return
	}
	files := logFiles(a.cfg.RootDir, pod.UID, container)
	i := 0
	if opts.Previous {
		i = 1
	}
	if len(files) <= i {
		what := "has no logs yet"
		if opts.Previous {
			what = "has no previous terminated instance"
		}
		http.Error(w, fmt.Sprintf("container %q in pod %q %s", container, name, what), http.StatusBadRequest)
		return
	}
	file := files[i]
	attempt := strings.TrimSuffix(file[strings.LastIndex(file, "/")+1:], ".log")
	id := fmt.Sprintf("%s_%s_%s", pod.UID, container, attempt)
	w.Header().Set("Content-Type", "text/plain")
	// Ask the runtime, not the last sync's view: a follow may start in
	// the moment between a container's start and the sync that records it.
	done := func() bool {
		if opts.Previous || a.isRunning(id) {
			return opts.Previous
		}
		cs, err := a.rt.List(r.Context(), containerByID(id))
		if err != nil || len(cs) == 0 {
			return true
		}
		return !cs[0].Running
	}
	if err := writeLogs(r.Context(), w, file, opts, done); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}
