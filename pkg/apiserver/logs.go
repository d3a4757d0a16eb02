package apiserver

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/core"
)

// Container logs live on the node that runs the pod. As in Kubernetes,
// this is the one place the API server talks to a node agent: it finds the
// pod's node, and streams GET /containerLogs/{ns}/{pod}/{container} from
// the agent's address (status.addresses, status.daemonEndpoints) back to
// the client, so `kubectl logs -f` follows.

// logParams are the query parameters passed through to the agent.
var logParams = []string{"follow", "tailLines", "timestamps", "previous", "sinceSeconds", "sinceTime", "limitBytes"}

// agentTransport dials node agents; it never uses a proxy.
var agentTransport = &http.Transport{Proxy: nil, DialContext: (&net.Dialer{}).DialContext}

func (s *Server) serveLogs(w http.ResponseWriter, r *http.Request, info *requestInfo) {
	obj, err := s.get(r.Context(), info.Kind, info.Namespace, info.Name)
	if err != nil {
		writeError(w, r, err)
		return
	}
	pod := obj.(*core.Pod)
	container, err := logContainer(pod, r.URL.Query().Get("container"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	if pod.Spec.NodeName == "" {
		writeError(w, r, apierrors.New(apierrors.ErrBadRequest, "pod %s/%s is not scheduled to a node yet: it has no logs", pod.Namespace, pod.Name))
		return
	}
	base, err := s.agentURL(r.Context(), pod.Spec.NodeName)
	if err != nil {
		writeError(w, r, err)
		return
	}
	q := url.Values{}
	for _, p := range logParams {
		if v := r.URL.Query().Get(p); v != "" {
			q.Set(p, v)
		}
	}
	target := base + "/containerLogs/" + url.PathEscape(pod.Namespace) + "/" + url.PathEscape(pod.Name) + "/" + url.PathEscape(container) + "?" + q.Encode()
	req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, target, nil)
	resp, err := s.agentTransport(pod.Spec.NodeName).RoundTrip(req)
	if err != nil {
		writeError(w, r, apierrors.New(apierrors.ErrUnavailable, "cannot reach the node agent of %s at %s: %v", pod.Spec.NodeName, base, err))
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		writeError(w, r, apierrors.New(categoryOf(resp.StatusCode), "%s", strings.TrimSpace(string(msg))))
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
		if err != nil {
			return
		}
	}
}

// logContainer picks the container to read, as Kubernetes does: the one
// named, or the only one.
func logContainer(pod *core.Pod, name string) (string, error) {
	var names []string
	for _, c := range pod.Spec.InitContainers {
		names = append(names, c.Name)
	}
	for _, c := range pod.Spec.Containers {
		names = append(names, c.Name)
	}
	if name == "" {
		if len(pod.Spec.Containers) == 1 {
			return pod.Spec.Containers[0].Name, nil
		}
		return "", apierrors.New(apierrors.ErrBadRequest, "a container name must be specified for pod %s, choose one of: [%s]",
			pod.Name, strings.Join(names, " "))
	}
	for _, n := range names {
		if n == name {
			return name, nil
		}
	}
	return "", apierrors.New(apierrors.ErrBadRequest, "container %s is not valid for pod %s", name, pod.Name)
}

// agentURL is the base URL of a node's agent, from its Node object.
func (s *Server) agentURL(ctx context.Context, node string) (string, error) {
	k, _ := apis.ByResource("", "nodes")
	obj, err := s.get(ctx, k, "", node)
	if err != nil {
		return "", err
	}
	n := obj.(*core.Node)
	addr := ""
	for _, want := range []string{core.NodeInternalIP, core.NodeHostName} {
		for _, a := range n.Status.Addresses {
			if a.Type == want && addr == "" {
				addr = a.Address
			}
		}
	}
	if addr == "" {
		return "", apierrors.New(apierrors.ErrUnavailable, "node %s reports no address for its agent", node)
	}
	port := int(n.Status.DaemonEndpoints.KubeletEndpoint.Port)
	if port == 0 {
		port = 10250
	}
	scheme := "http://"
	if s.sec.AgentTLS != nil {
		scheme = "https://"
	}
	return scheme + net.JoinHostPort(addr, strconv.Itoa(port)), nil
}

// agentTransport is how to reach the agent of node: plain, or TLS with
// the API server's kubelet client certificate, the agent's certificate
// verified for the node's name (it is dialed by IP). A transport per log
// request is fine: they are rare and long.
func (s *Server) agentTransport(node string) http.RoundTripper {
	if s.sec.AgentTLS == nil {
		return agentTransport
	}
	tc := s.sec.AgentTLS.Clone()
	tc.ServerName = node
	return &http.Transport{Proxy: nil, DialContext: (&net.Dialer{}).DialContext, TLSClientConfig: tc, DisableKeepAlives: true}
}

func categoryOf(code int) error {
	switch code {
	case http.StatusNotFound:
		return apierrors.ErrNotFound
	case http.StatusBadRequest:
		return apierrors.ErrBadRequest
	}
	return fmt.Errorf("node agent answered %d: %w", code, apierrors.ErrUnavailable)
}
