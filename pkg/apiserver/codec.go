package apiserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"minik8s/pkg/apis/apierrors"
)

// maxBodyBytes is the largest request body accepted, as in Kubernetes
// (3 MiB): etcd's own request limit sits just above it.
const maxBodyBytes = 3 << 20

// readBody reads the request body, refusing bodies over maxBodyBytes.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, apierrors.New(apierrors.ErrBadRequest, "reading the request body: %v", err)
	}
	if len(b) > maxBodyBytes {
		return nil, apierrors.New(apierrors.ErrTooLarge, "the request body is larger than the limit of %d bytes", maxBodyBytes)
	}
	return b, nil
}

// mediaType returns the request's content type without parameters.
func mediaType(r *http.Request) string {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ct
	}
	return mt
}

// toJSON turns a body in JSON or YAML into JSON. It checks syntax and
// reports duplicate keys (which a plain decode would silently resolve to the
// last one). An empty media type is sniffed: JSON if it looks like JSON.
func toJSON(body []byte, media string) (doc []byte, duplicates []string, err error) {
	switch media {
	case "application/vnd.kubernetes.protobuf":
		doc, err := protobufToJSON(body)
		return doc, nil, err
	case "application/yaml", "application/x-yaml", "text/yaml", "application/apply-patch+yaml":
		return yamlToJSON(body)
	case "", "application/json", "application/merge-patch+json", "application/json-patch+json",
		"application/strategic-merge-patch+json", "text/plain", "*/*":
		trimmed := bytes.TrimSpace(body)
		if len(trimmed) > 0 && trimmed[0] != '{' && trimmed[0] != '[' && media == "" {
			return yamlToJSON(body)
		}
		if err := checkJSONSyntax(trimmed); err != nil {
			return nil, nil, err
		}
		return trimmed, jsonDuplicates(trimmed), nil
	}
	return nil, nil, apierrors.New(apierrors.ErrUnsupportedMedia,
		"the body of the request was in an unknown format (%s) - accepted media types include: application/json, application/yaml", media)
}

func yamlToJSON(body []byte) ([]byte, []string, error) {
	j, err := yaml.YAMLToJSONStrict(body)
	if err == nil {
		if bytes.Equal(bytes.TrimSpace(j), []byte("null")) {
			return nil, nil, apierrors.New(apierrors.ErrBadRequest, "the request body is empty")
		}
		return j, nil, nil
	}
	if strings.Contains(err.Error(), "already set in map") {
		// Duplicate keys: decode leniently, report them as strict-mode problems.
		j2, err2 := yaml.YAMLToJSON(body)
		if err2 == nil {
			return j2, []string{strings.TrimPrefix(err.Error(), "error converting YAML to JSON: ")}, nil
		}
	}
	return nil, nil, apierrors.New(apierrors.ErrBadRequest, "error decoding YAML: %s", strings.TrimPrefix(err.Error(), "error converting YAML to JSON: "))
}

// checkJSONSyntax reports where a JSON document is broken, by line and
// column, so a user can find the mistake.
func checkJSONSyntax(b []byte) error {
	if len(b) == 0 {
		return apierrors.New(apierrors.ErrBadRequest, "the request body is empty")
	}
	if json.Valid(b) {
		return nil
	}
	var v any
	err := json.Unmarshal(b, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := position(b, se.Offset)
		return apierrors.New(apierrors.ErrBadRequest, "error decoding JSON: %v (at line %d, column %d)", se, line, col)
	}
	return apierrors.New(apierrors.ErrBadRequest, "error decoding JSON: %v", err)
}

func position(b []byte, offset int64) (line, col int) {
	line, col = 1, 1
	for i := int64(0); i < offset-1 && i < int64(len(b)); i++ {
		if b[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// jsonDuplicates walks a valid JSON document's tokens and returns the paths
// of keys that appear twice in one object.
func jsonDuplicates(b []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(b))
	var dups []string
	var walk func(path string) error
	walk = func(path string) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				k, _ := kt.(string)
				p := joinPath(path, k)
				if seen[k] {
					dups = append(dups, p)
				}
				seen[k] = true
				if err := walk(p); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				if err := walk(fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		}
		return nil
	}
	walk("")
	return dups
}

func joinPath(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

// decodeInto decodes a JSON document into obj and returns the JSON paths of
// fields obj's type does not have. Type errors name the field.
func decodeInto(doc []byte, obj any) (unknown []string, err error) {
	if err := json.Unmarshal(doc, obj); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, apierrors.New(apierrors.ErrBadRequest, "error decoding %s: cannot use a JSON %s as %s", fieldName(te.Field), te.Value, te.Type)
		}
		return nil, apierrors.New(apierrors.ErrBadRequest, "error decoding the object: %v", err)
	}
	var generic any
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		return nil, apierrors.New(apierrors.ErrBadRequest, "error decoding the object: %v", err)
	}
	unknown = unknownFields(generic, reflect.TypeOf(obj), "")
	sort.Strings(unknown)
	return unknown, nil
}

func fieldName(f string) string {
	if f == "" {
		return "the object"
	}
	return "field " + f
}

var unmarshalerType = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()

// unknownFields returns the paths in v (a generic JSON value) that have no
// place in Go type t, following encoding/json's rules: json tags, embedded
// structs inlined, maps and slices by element. Types with their own
// UnmarshalJSON are leaves.
func unknownFields(v any, t reflect.Type, path string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return nil
	}
	var out []string
	switch x := v.(type) {
	case map[string]any:
		switch t.Kind() {
		case reflect.Map:
			for k, e := range x {
				out = append(out, unknownFields(e, t.Elem(), path+"["+k+"]")...)
			}
		case reflect.Struct:
			fields := jsonFields(t)
			for k, e := range x {
				ft, ok := fields[k]
				if !ok {
					out = append(out, joinPath(path, k))
					continue
				}
				out = append(out, unknownFields(e, ft, joinPath(path, k))...)
			}
		}
	case []any:
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			for i, e := range x {
				out = append(out, unknownFields(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	}
	return out
}

// jsonFields maps the JSON names of struct type t's fields (with embedded
// structs inlined) to their types. Names are matched exactly: Kubernetes
// field names are case-sensitive even though encoding/json is not.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range jsonFields(ft) {
					m[k] = v
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = f.Type
	}
	fieldCache.Store(t, m)
	return m
}

// wantsYAML says whether the client prefers YAML responses.
func wantsYAML(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "application/yaml") && !strings.HasPrefix(accept, "application/json")
}

// writeObject encodes v as JSON (or YAML when asked) with status code.
func writeObject(w http.ResponseWriter, r *http.Request, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, r, fmt.Errorf("encoding the response: %w", err))
		return
	}
	if r != nil && wantsYAML(r) {
		if y, err := yaml.JSONToYAML(b); err == nil {
			w.Header().Set("Content-Type", "application/yaml")
			w.WriteHeader(code)
			w.Write(y)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(b)
}

// writeError sends err as a Status object with its category's code.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	st := apierrors.ToStatus(err)
	if st.Code == http.StatusTooManyRequests && st.Details != nil && st.Details.RetryAfterSeconds > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(st.Details.RetryAfterSeconds))
	}
	writeObject(w, r, int(st.Code), st)
}
