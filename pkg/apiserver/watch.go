package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/store"
)

// serveWatch streams changes as newline-delimited JSON watch events.
//
// resourceVersion "" or "0" starts with a synthetic ADDED event for every
// existing object (read at one revision) and then follows changes after
// it; any other value follows changes after that revision, or answers with
// an ERROR event carrying a 410 Status when it has been compacted.
//
// With selectors, an object that starts matching is sent as ADDED and one
// that stops matching as DELETED, so the client's view of "the objects
// that match" stays right (Kubernetes does the same).
func (s *Server) serveWatch(w http.ResponseWriter, r *http.Request, info *requestInfo) {
	k := info.Kind
	q := r.URL.Query()
	f, err := parseFilter(k, q)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var from int64
	if v := q.Get("resourceVersion"); v != "" && v != "0" {
		from, err = strconv.ParseInt(v, 10, 64)
		if err != nil || from < 0 {
			writeError(w, r, apierrors.New(apierrors.ErrBadRequest, "resourceVersion must be a revision number, not %q", v))
			return
		}
	}
	// Kubernetes ends watches after a random 30-60 minutes so that clients
	// spread their re-watches; timeoutSeconds shortens that.
	timeout := time.Duration(1800+rand.IntN(1800)) * time.Second
	if v := q.Get("timeoutSeconds"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, r, apierrors.New(apierrors.ErrBadRequest, "timeoutSeconds must be a non-negative integer, not %q", v))
			return
		}
		if n > 0 {
			timeout = time.Duration(n) * time.Second
		}
	}
	bookmarks := q.Get("allowWatchBookmarks") == "true"
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()

	var initial []meta.Object
	if from == 0 {
		initial, from, _, err = s.list(ctx, k, info.Namespace, f, 0, "")
		if err != nil {
			writeError(w, r, err)
			return
		}
	}
	events, err := s.store.Watch(ctx, prefix(k, info.Namespace), from)
	if err != nil {
		writeError(w, r, err)
		return
	}
	flusher, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Transfer-Encoding", "chunked")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	asTable, columns := wantsTable(r), true
	send := func(typ string, obj any) bool {
		if o, ok := obj.(meta.Object); ok && asTable && (typ == meta.Added || typ == meta.Modified || typ == meta.Deleted) {
			// Column definitions go with the first event only, as in Kubernetes.
			obj = s.toTable(k, []meta.Object{o}, meta.ListMeta{ResourceVersion: o.GetObjectMeta().ResourceVersion}, q.Get("includeObject"), columns)
			columns = false
		}
		raw, err := json.Marshal(obj)
		if err != nil {
			return false
		}
		if err := enc.Encode(meta.WatchEvent{Type: typ, Object: raw}); err != nil {
			return false
		}
		if flusher != nil {
			flusher.Flush()
		}
		return true
	}
	if flusher != nil {
		flusher.Flush()
	}
	for _, obj := range initial {
		if !send(meta.Added, obj) {
			return
		}
	}
	for {
		var ev store.Event
		var ok bool
		select {
		case ev, ok = <-events:
		case <-ctx.Done():
			return
		}
		if !ok {
			return
		}
		switch ev.Type {
		case store.Error:
			st := apierrors.ToStatus(ev.Err)
			if errors.Is(ev.Err, apierrors.ErrGone) {
				st = apierrors.ToStatus(apierrors.New(apierrors.ErrGone, "too old resource version: %d: %v", from, ev.Err))
			}
			send(meta.Error, st)
			return
		case store.Bookmark:
			if bookmarks && !send(meta.Bookmark, bookmarkObject(k, ev.Revision)) {
				return
			}
			continue
		}
		typ, obj, err := s.convertEvent(k, f, ev)
		if err != nil {
			send(meta.Error, apierrors.ToStatus(err))
			return
		}
		if typ != "" && !send(typ, obj) {
			return
		}
	}
}

// convertEvent turns a store event into the watch event this watcher
// should see, or "" when the object neither matches now nor did before.
func (s *Server) convertEvent(k *apis.Kind, f *filter, ev store.Event) (string, meta.Object, error) {
	obj, err := decodeStored(k, ev.KV)
	if err != nil {
		return "", nil, err
	}
	if ev.Type == store.Deleted {
		if f.matches(obj) {
			return meta.Deleted, obj, nil
		}
		return "", nil, nil
	}
	now := f.matches(obj)
	before := false
	if ev.Type == store.Modified && ev.PrevValue != nil {
		if f.empty() {
			before = true
		} else {
			prev := k.New()
			if err := json.Unmarshal(ev.PrevValue, prev); err != nil {
				return "", nil, fmt.Errorf("stored %s %s is corrupt: %w", k.Kind, ev.KV.Key, err)
			}
			before = f.matches(prev)
		}
	}
	switch {
	case now && before:
		return meta.Modified, obj, nil
	case now:
		return meta.Added, obj, nil
	case before:
		return meta.Deleted, obj, nil
	}
	return "", nil, nil
}

// bookmarkObject is an object of the watched kind carrying only the
// revision every earlier change has been sent up to.
func bookmarkObject(k *apis.Kind, rev int64) meta.Object {
	obj := k.New()
	setTypeMeta(k, obj)
	obj.GetObjectMeta().ResourceVersion = strconv.FormatInt(rev, 10)
	return obj
}
