package apiserver

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/store"
)

// list is the wire form of every XxxList.
type list struct {
	meta.TypeMeta `json:",inline"`
	Metadata      meta.ListMeta `json:"metadata"`
	Items         []meta.Object `json:"items"`
}

func listObject(k *apis.Kind, items []meta.Object, rv int64, cont string) *list {
	if items == nil {
		items = []meta.Object{}
	}
	return &list{
		TypeMeta: meta.TypeMeta{APIVersion: k.APIVersion(), Kind: k.ListKind},
		Metadata: meta.ListMeta{ResourceVersion: strconv.FormatInt(rv, 10), Continue: cont},
		Items:    items,
	}
}

// continueToken is what a paged list hands back to resume: the revision the
// first page was read at (so every page shows the same moment) and the key
// to start from.
type continueToken struct {
	Rev   int64  `json:"rv"`
	Start string `json:"start"`
}

func encodeContinue(rev int64, start string) string {
	b, _ := json.Marshal(continueToken{Rev: rev, Start: start})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeContinue(s, prefix string) (continueToken, error) {
	var t continueToken
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &t)
	}
	if err != nil || t.Rev <= 0 || len(t.Start) < len(prefix) || t.Start[:len(prefix)] != prefix {
		return t, apierrors.New(apierrors.ErrBadRequest, "the continue parameter is not valid for this list; start again without it")
	}
	return t, nil
}

func (s *Server) serveList(w http.ResponseWriter, r *http.Request, info *requestInfo) {
	q := r.URL.Query()
	f, err := parseFilter(info.Kind, q)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var limit int64
	if v := q.Get("limit"); v != "" {
		limit, err = strconv.ParseInt(v, 10, 64)
		if err != nil || limit < 0 {
			writeError(w, r, apierrors.New(apierrors.ErrBadRequest, "limit must be a non-negative integer, not %q", v))
			return
		}
	}
	items, rev, cont, err := s.list(r.Context(), info.Kind, info.Namespace, f, limit, q.Get("continue"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.writeObjects(w, r, info.Kind, nil, listObject(info.Kind, items, rev, cont))
}

// list reads the matching objects of a collection at one revision. With a
// limit it returns at most that many and a continue token; selectors are
// applied before counting, so a page is full unless the list is done.
func (s *Server) list(ctx context.Context, k *apis.Kind, ns string, f *filter, limit int64, cont string) ([]meta.Object, int64, string, error) {
	pfx := prefix(k, ns)
	opts := store.ListOptions{}
	if cont != "" {
		t, err := decodeContinue(cont, pfx)
		if err != nil {
			return nil, 0, "", err
		}
		opts.Revision, opts.StartKey = t.Rev, t.Start
	}
	var items []meta.Object
	for {
		if limit > 0 {
			// Read a little more than needed: the filter may drop some.
			opts.Limit = limit - int64(len(items)) + 1
			if !f.empty() && opts.Limit < 100 {
				opts.Limit = 100
			}
		}
		page, err := s.store.List(ctx, pfx, opts)
		if errors.Is(err, apierrors.ErrGone) && cont != "" {
			return nil, 0, "", apierrors.New(apierrors.ErrGone,
				"The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.")
		}
		if err != nil {
			return nil, 0, "", err
		}
		opts.Revision = page.Revision
		for i, kv := range page.KVs {
			if limit > 0 && int64(len(items)) == limit {
				// A full page and at least one more key: resume here.
				return items, page.Revision, encodeContinue(page.Revision, kv.Key), nil
			}
			obj, err := decodeStored(k, kv)
			if err != nil {
				return nil, 0, "", err
			}
			obj.GetObjectMeta().ResourceVersion = strconv.FormatInt(kv.ModRevision, 10)
			if f.matches(obj) {
				items = append(items, obj)
			}
			if i == len(page.KVs)-1 {
				opts.StartKey = kv.Key + "\x00"
			}
		}
		if !page.More {
			return items, page.Revision, "", nil
		}
	}
}
