package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/meta"
)

// Client is a REST client for one API server. It is safe for concurrent
// use and holds no state but its connection pool.
type Client struct {
	base *url.URL
	http *http.Client
	// caPEM is the CA that verifies the server, if known (CAData).
	caPEM []byte
	// UserAgent is sent with every request.
	UserAgent string
}

// New returns a client for the API server at server (e.g.
// http://127.0.0.1:6443).
func New(server string) (*Client, error) {
	u, err := url.Parse(server)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("server %q is not a URL like http://127.0.0.1:6443", server)
	}
	tr := &http.Transport{
		Proxy:               nil, // the API server is never reached through a proxy
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
	}
	return &Client{base: u, http: &http.Client{Transport: tr}, UserAgent: "minik8s"}, nil
}

// Server returns the API server's URL.
func (c *Client) Server() string { return c.base.String() }

// ListOptions narrow lists and watches.
type ListOptions struct {
	LabelSelector string
	FieldSelector string
	// ResourceVersion: for Watch, the revision to watch after ("" or "0":
	// send the current objects as ADDED first).
	ResourceVersion string
	// TimeoutSeconds ends a watch after that long (0: server default).
	TimeoutSeconds int
	// Limit is the page size List uses to read big collections in pages
	// (0: 500). List always returns the whole collection.
	Limit int64
}

func (o ListOptions) query() url.Values {
	q := url.Values{}
	if o.LabelSelector != "" {
		q.Set("labelSelector", o.LabelSelector)
	}
	if o.FieldSelector != "" {
		q.Set("fieldSelector", o.FieldSelector)
	}
	return q
}

// Path returns the URL path of a collection (name "") or object, with an
// optional subresource.
func Path(k *apis.Kind, ns, name, sub string) string {
	var b strings.Builder
	if k.Group == "" {
		b.WriteString("/api/" + k.Version)
	} else {
		b.WriteString("/apis/" + k.Group + "/" + k.Version)
	}
	if k.Namespaced && ns != "" {
		b.WriteString("/namespaces/" + ns)
	}
	b.WriteString("/" + k.Resource)
	if name != "" {
		b.WriteString("/" + name)
		if sub != "" {
			b.WriteString("/" + sub)
		}
	}
	return b.String()
}

func kindOf(obj meta.Object) (*apis.Kind, error) {
	k, ok := apis.ForObject(obj)
	if !ok {
		return nil, fmt.Errorf("client: %T is not a served kind", obj)
	}
	return k, nil
}

// Do sends one request and decodes a 2xx JSON response into out (if not
// nil). A non-2xx response becomes a *apierrors.StatusError.
func (c *Client) Do(ctx context.Context, method, path string, q url.Values, contentType string, body []byte, out any) error {
	resp, err := c.send(ctx, method, path, q, contentType, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: reading response: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return responseError(resp.StatusCode, data)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: decoding response: %w", method, path, err)
	}
	return nil
}

func (c *Client) send(ctx context.Context, method, path string, q url.Values, contentType string, body []byte) (*http.Response, error) {
	u := *c.base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawQuery = q.Encode()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.UserAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w: %w", method, u.Path, apierrors.ErrUnavailable, err)
	}
	return resp, nil
}

// responseError decodes an error response; a body that is not a Status still
// maps to the category of its HTTP code.
func responseError(code int, data []byte) error {
	var st meta.Status
	if json.Unmarshal(data, &st) == nil && st.Kind == "Status" {
		if st.Code == 0 {
			st.Code = int32(code)
		}
		return apierrors.FromStatus(&st)
	}
	return apierrors.FromStatus(&meta.Status{Status: meta.StatusFailure, Code: int32(code),
		Message: fmt.Sprintf("the server answered %d: %s", code, bytes.TrimSpace(data))})
}

// Get reads one object into out, which also says the kind.
func (c *Client) Get(ctx context.Context, ns, name string, out meta.Object) error {
	k, err := kindOf(out)
	if err != nil {
		return err
	}
	return c.doFresh(ctx, http.MethodGet, Path(k, ns, name, ""), "", nil, k, out)
}

// doFresh decodes the reply into a fresh object of kind k and then
// replaces *out whole. Decoding into out itself would keep fields the
// reply omits (an emptied list is omitted, not sent as []) and would merge
// into maps that may be shared with an informer's cache.
func (c *Client) doFresh(ctx context.Context, method, path, contentType string, body []byte, k *apis.Kind, out meta.Object) error {
	fresh := k.New()
	if err := c.Do(ctx, method, path, nil, contentType, body, fresh); err != nil {
		return err
	}
	reflect.ValueOf(out).Elem().Set(reflect.ValueOf(fresh).Elem())
	return nil
}

// Create creates obj in its namespace and replaces obj with what the server
// stored (uid, resourceVersion, defaults).
func (c *Client) Create(ctx context.Context, obj meta.Object) error {
	return c.write(ctx, http.MethodPost, obj, false, "")
}

// Update replaces obj (optimistic concurrency: obj's resourceVersion must
// be current, or the server answers 409 Conflict).
func (c *Client) Update(ctx context.Context, obj meta.Object) error {
	return c.write(ctx, http.MethodPut, obj, true, "")
}

// UpdateStatus replaces obj's status through the status subresource.
func (c *Client) UpdateStatus(ctx context.Context, obj meta.Object) error {
	return c.write(ctx, http.MethodPut, obj, true, "status")
}

func (c *Client) write(ctx context.Context, method string, obj meta.Object, named bool, sub string) error {
	k, err := kindOf(obj)
	if err != nil {
		return err
	}
	tm := obj.GetTypeMeta()
	tm.APIVersion, tm.Kind = k.APIVersion(), k.Kind
	body, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	m := obj.GetObjectMeta()
	name := ""
	if named {
		name = m.Name
	}
	return c.doFresh(ctx, method, Path(k, m.Namespace, name, sub), "application/json", body, k, obj)
}

// Patch types.
const (
	MergePatch     = "application/merge-patch+json"
	JSONPatch      = "application/json-patch+json"
	StrategicPatch = "application/strategic-merge-patch+json"
)

// Patch applies a patch to the named object (of out's kind) and decodes the
// result into out.
func (c *Client) Patch(ctx context.Context, ns, name, patchType string, patch []byte, out meta.Object) error {
	k, err := kindOf(out)
	if err != nil {
		return err
	}
	return c.doFresh(ctx, http.MethodPatch, Path(k, ns, name, ""), patchType, patch, k, out)
}

// Delete deletes the named object of kind k. opts may be nil.
func (c *Client) Delete(ctx context.Context, k *apis.Kind, ns, name string, opts *meta.DeleteOptions) error {
	var body []byte
	if opts != nil {
		body, _ = json.Marshal(opts)
	}
	return c.Do(ctx, http.MethodDelete, Path(k, ns, name, ""), nil, "application/json", body, nil)
}

// List returns every object of kind k in ns ("" for all namespaces)
// matching opts, read in pages at one revision, and that revision.
func (c *Client) List(ctx context.Context, k *apis.Kind, ns string, opts ListOptions) ([]meta.Object, string, error) {
	q := opts.query()
	limit := opts.Limit
	if limit <= 0 {
		limit = 500
	}
	q.Set("limit", strconv.FormatInt(limit, 10))
	var items []meta.Object
	for {
		var page struct {
			Metadata meta.ListMeta     `json:"metadata"`
			Items    []json.RawMessage `json:"items"`
		}
		if err := c.Do(ctx, http.MethodGet, Path(k, ns, "", ""), q, "", nil, &page); err != nil {
			return nil, "", err
		}
		for _, raw := range page.Items {
			obj := k.New()
			if err := json.Unmarshal(raw, obj); err != nil {
				return nil, "", fmt.Errorf("decoding a %s: %w", k.Kind, err)
			}
			items = append(items, obj)
		}
		if page.Metadata.Continue == "" {
			return items, page.Metadata.ResourceVersion, nil
		}
		q.Set("continue", page.Metadata.Continue)
	}
}

// Watch streams changes to objects of kind k in ns after
// opts.ResourceVersion. Stop it, or cancel ctx, to end it.
func (c *Client) Watch(ctx context.Context, k *apis.Kind, ns string, opts ListOptions) (Watcher, error) {
	q := opts.query()
	q.Set("watch", "true")
	q.Set("allowWatchBookmarks", "true")
	if opts.ResourceVersion != "" {
		q.Set("resourceVersion", opts.ResourceVersion)
	}
	if opts.TimeoutSeconds > 0 {
		q.Set("timeoutSeconds", strconv.Itoa(opts.TimeoutSeconds))
	}
	ctx, cancel := context.WithCancel(ctx)
	resp, err := c.send(ctx, http.MethodGet, Path(k, ns, "", ""), q, "", nil)
	if err != nil {
		cancel()
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		defer cancel()
		data, _ := io.ReadAll(resp.Body)
		return nil, responseError(resp.StatusCode, data)
	}
	w := &httpWatcher{cancel: cancel, ch: make(chan Event)}
	go w.decode(ctx, k, resp.Body)
	return w, nil
}

type httpWatcher struct {
	cancel context.CancelFunc
	ch     chan Event
}

func (w *httpWatcher) ResultChan() <-chan Event { return w.ch }
func (w *httpWatcher) Stop()                    { w.cancel() }

// decode reads newline-delimited watch events until the stream ends.
func (w *httpWatcher) decode(ctx context.Context, k *apis.Kind, body io.ReadCloser) {
	defer close(w.ch)
	defer body.Close()
	defer w.cancel()
	dec := json.NewDecoder(body)
	for {
		var ev meta.WatchEvent
		if err := dec.Decode(&ev); err != nil {
			return // EOF, cancelled, or a broken stream: the watch is over
		}
		var obj meta.Object
		if ev.Type == meta.Error {
			obj = &meta.Status{}
		} else {
			obj = k.New()
		}
		if err := json.Unmarshal(ev.Object, obj); err != nil {
			return
		}
		select {
		case w.ch <- Event{Type: ev.Type, Object: obj}:
		case <-ctx.Done():
			return
		}
	}
}

// ListWatch returns the ListerWatcher an Informer needs for kind k in ns
// ("" for all namespaces), narrowed by opts' selectors.
func (c *Client) ListWatch(k *apis.Kind, ns string, opts ListOptions) ListerWatcher {
	return &listWatch{c: c, k: k, ns: ns, opts: opts}
}

type listWatch struct {
	c    *Client
	k    *apis.Kind
	ns   string
	opts ListOptions
}

func (lw *listWatch) String() string { return lw.k.Resource }

func (lw *listWatch) List(ctx context.Context) ([]meta.Object, string, error) {
	return lw.c.List(ctx, lw.k, lw.ns, lw.opts)
}

func (lw *listWatch) Watch(ctx context.Context, rv string) (Watcher, error) {
	o := lw.opts
	o.ResourceVersion = rv
	// End watches every 5-10 minutes so a silently dead connection is
	// noticed; the informer re-watches from its last revision.
	o.TimeoutSeconds = 300 + int(time.Now().UnixNano()%300)
	return lw.c.Watch(ctx, lw.k, lw.ns, o)
}
