package apiserver

import (
	"net/http"
	"strings"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/apiserver/printers"
)

// Server-side printing: when a client asks for a Table (kubectl get does,
// with Accept: application/json;as=Table;v=v1;g=meta.k8s.io), the server
// answers with the columns to print and one row per object, so kubectl
// needs no knowledge of the kind.

// wantsTable says whether the request's Accept header prefers a Table.
func wantsTable(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if strings.Contains(part, "as=Table") && strings.Contains(part, "g=meta.k8s.io") {
			return true
		}
		if strings.Contains(part, "application/json") {
			return false // plain JSON preferred over a Table
		}
	}
	return false
}

type table struct {
	meta.TypeMeta     `json:",inline"`
	Metadata          meta.ListMeta     `json:"metadata"`
	ColumnDefinitions []printers.Column `json:"columnDefinitions"`
	Rows              []tableRow        `json:"rows"`
}

type tableRow struct {
	Cells  []any `json:"cells"`
	Object any   `json:"object,omitempty"`
}

// partialObjectMetadata is what a row carries by default: the object's
// metadata, so kubectl can show labels and namespaces (-A, --show-labels).
type partialObjectMetadata struct {
	meta.TypeMeta `json:",inline"`
	Metadata      *meta.ObjectMeta `json:"metadata"`
}

// toTable prints objects of kind k as a Table. includeObject is the
// request's parameter: None, Metadata (default) or Object.
func (s *Server) toTable(k *apis.Kind, objs []meta.Object, listMeta meta.ListMeta, includeObject string, columns bool) *table {
	p := printers.For(k.Group, k.Resource)
	t := &table{
		TypeMeta: meta.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "Table"},
		Metadata: listMeta,
		Rows:     []tableRow{},
	}
	if columns {
		t.ColumnDefinitions = p.Columns
	}
	now := s.now()
	for _, obj := range objs {
		row := tableRow{Cells: p.Row(obj, now)}
		switch includeObject {
		case "None":
		case "Object":
			row.Object = obj
		default:
			row.Object = &partialObjectMetadata{
				TypeMeta: meta.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "PartialObjectMetadata"},
				Metadata: obj.GetObjectMeta(),
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// writeObjects answers a get or list: a Table when asked for one, the
// object or list otherwise.
func (s *Server) writeObjects(w http.ResponseWriter, r *http.Request, k *apis.Kind, single meta.Object, l *list) {
	if wantsTable(r) {
		objs, lm := l.itemsOr(single)
		t := s.toTable(k, objs, lm, r.URL.Query().Get("includeObject"), true)
		w.Header().Set("Content-Type", "application/json")
		writeObject(w, nil, http.StatusOK, t)
		return
	}
	if single != nil {
		writeObject(w, r, http.StatusOK, single)
		return
	}
	writeObject(w, r, http.StatusOK, l)
}

func (l *list) itemsOr(single meta.Object) ([]meta.Object, meta.ListMeta) {
	if l == nil {
		return []meta.Object{single}, meta.ListMeta{ResourceVersion: single.GetObjectMeta().ResourceVersion}
	}
	return l.Items, l.Metadata
}
