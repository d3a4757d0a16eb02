package strategicpatch

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// The directives, spelt as in k8s.io/apimachinery/pkg/util/strategicpatch.
const (
	patchDirective            = "$patch"
	retainKeysDirective       = "$retainKeys"
	setElementOrderPrefix     = "$setElementOrder/"
	deleteFromPrimitivePrefix = "$deleteFromPrimitiveList/"

	mergeValue   = "merge"
	replaceValue = "replace"
	deleteValue  = "delete"
)

// Apply returns original with the strategic merge patch applied. Both must
// be JSON objects. Schema says how each list merges; a nil Schema replaces
// every list, which makes Apply a JSON merge patch that understands the
// directives. Numbers are copied exactly as written. Apply does not modify
// its arguments. The error says what is wrong with the input.
func Apply(original, patch []byte, schema Schema) ([]byte, error) {
	orig, err := decodeObject(original, "original")
	if err != nil {
		return nil, err
	}
	p, err := decodeObject(patch, "patch")
	if err != nil {
		return nil, err
	}
	out, err := merger{schema: schema}.mergeMap(orig, p, "")
	if err != nil {
		return nil, err
	}
	return json.Marshal(out)
}

// decodeObject decodes one JSON object, keeping numbers as json.Number so
// that an int64 such as a resourceVersion survives the round trip.
func decodeObject(data []byte, what string) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("the %s is not valid JSON: %w", what, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("the %s has data after its JSON value", what)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the %s must be a JSON object, not %s", what, describe(v))
	}
	return obj, nil
}

// merger holds what stays the same through one Apply.
type merger struct {
	schema Schema // nil: every list is replaced
}

func (m merger) listStrategy(path string) (mergeKey string, merge bool) {
	if m.schema == nil {
		return "", false
	}
	return m.schema.ListStrategy(path)
}

// mergeValue merges one patch value into the original value at path. A
// patch map or list merges into an original of the same kind, or into
// nothing when the kind differs, which still strips its directives. Any
// other value replaces the original (RFC 7386 section 2).
func (m merger) mergeValue(orig, patch any, path string) (any, error) {
	switch p := patch.(type) {
	case map[string]any:
		o, _ := orig.(map[string]any)
		return m.mergeMap(o, p, path)
	case []any:
		o, _ := orig.([]any)
		return m.mergeList(o, p, path)
	}
	return patch, nil
}

// mergeMap returns a new map: orig with patch merged in. Orig may be nil.
func (m merger) mergeMap(orig, patch map[string]any, path string) (map[string]any, error) {
	d, err := readMapDirectives(patch, path)
	if err != nil {
		return nil, err
	}
	switch d.patch {
	case deleteValue:
		return map[string]any{}, nil
	case replaceValue:
		orig = nil // the patch is the whole map; merging into nothing cleans it
	}
	out := make(map[string]any, len(orig)+len(patch))
	maps.Copy(out, orig)

	// Kubernetes deletes from the original list before merging the patch's
	// list, so a value both deleted and added ends up present.
	for field, values := range d.deleteFromPrimitiveList {
		if list, ok := out[field].([]any); ok {
			out[field] = slices.DeleteFunc(slices.Clone(list), func(v any) bool {
				return slices.ContainsFunc(values, func(d any) bool { return reflect.DeepEqual(v, d) })
			})
		}
	}
	// Sorted keys make the first error reported the same on every run.
	for _, key := range slices.Sorted(maps.Keys(patch)) {
		if isDirective(key) {
			continue
		}
		if patch[key] == nil {
			delete(out, key)
			continue
		}
		v, err := m.mergeValue(out[key], patch[key], join(path, key))
		if err != nil {
			return nil, err
		}
		out[key] = v
	}
	for _, field := range slices.Sorted(maps.Keys(d.setElementOrder)) {
		list, ok := out[field].([]any)
		if !ok {
			continue // the list is gone or never was: nothing to order
		}
		key, _ := m.listStrategy(join(path, field))
		ordered, err := sortByOrder(list, d.setElementOrder[field], key)
		if err != nil {
			return nil, fmt.Errorf("%s%s at %s: %w", setElementOrderPrefix, field, where(path), err)
		}
		out[field] = ordered
	}
	if d.retainKeys != nil {
		for key := range out {
			if !slices.Contains(d.retainKeys, key) {
				delete(out, key)
			}
		}
	}
	return out, nil
}

// mapDirectives are the directives found among the keys of one patch map.
type mapDirectives struct {
	patch                   string           // "", "merge", "replace" or "delete"
	retainKeys              []string         // nil when absent; non-nil (maybe empty) when present
	setElementOrder         map[string][]any // by field name
	deleteFromPrimitiveList map[string][]any // by field name
}

// readMapDirectives collects and checks the directives of a patch map.
func readMapDirectives(patch map[string]any, path string) (mapDirectives, error) {
	var d mapDirectives
	for _, key := range slices.Sorted(maps.Keys(patch)) {
		v := patch[key]
		switch {
		case key == patchDirective:
			s, err := patchValue(v, path)
			if err != nil {
				return d, err
			}
			d.patch = s
		case key == retainKeysDirective:
			keys, err := stringList(v)
			if err != nil {
				return d, fmt.Errorf("%s at %s %w", key, where(path), err)
			}
			d.retainKeys = keys
		case strings.HasPrefix(key, setElementOrderPrefix):
			list, ok := v.([]any)
			if !ok {
				return d, fmt.Errorf("%s at %s must be a list, not %s", key, where(path), describe(v))
			}
			d.setElementOrder = addField(d.setElementOrder, strings.TrimPrefix(key, setElementOrderPrefix), list)
		case strings.HasPrefix(key, deleteFromPrimitivePrefix):
			list, ok := v.([]any)
			if !ok {
				return d, fmt.Errorf("%s at %s must be a list, not %s", key, where(path), describe(v))
			}
			d.deleteFromPrimitiveList = addField(d.deleteFromPrimitiveList, strings.TrimPrefix(key, deleteFromPrimitivePrefix), list)
		}
	}
	return d, nil
}

// mergeList merges a patch list into the original list at path.
func (m merger) mergeList(orig, patch []any, path string) ([]any, error) {
	key, merge := m.listStrategy(path)
	items, deleteKeys, replace, err := splitListDirectives(patch, key, path)
	if err != nil {
		return nil, err
	}
	if replace || !merge || key == "" {
		// The patch's elements are taken as they are, minus directives.
		clean := make([]any, len(items))
		for i, item := range items {
			if clean[i], err = m.mergeValue(nil, item, path); err != nil {
				return nil, err
			}
		}
		if replace || !merge {
			return clean, nil
		}
		return union(orig, clean), nil
	}
	return m.mergeByKey(orig, items, deleteKeys, key, path)
}

// splitListDirectives separates the elements of a patch list from its
// directives: the marker elements {"$patch": "replace"} and
// {"$patch": "merge"}, and the elements {key: v, "$patch": "delete"}, whose
// key values it returns. An element with "$patch": "replace" and other keys
// stays an element: it replaces the one original element with its key.
func splitListDirectives(patch []any, key, path string) (items, deleteKeys []any, replace bool, err error) {
	for i, elem := range patch {
		obj, _ := elem.(map[string]any)
		v, ok := obj[patchDirective]
		if !ok {
			items = append(items, elem)
			continue
		}
		directive, err := patchValue(v, path)
		if err != nil {
			return nil, nil, false, err
		}
		switch {
		case directive == deleteValue && key == "":
			return nil, nil, false, fmt.Errorf(`"$patch": "delete" in the list at %s needs a merge key; use %s<field> to delete values from a list without one`, where(path), deleteFromPrimitivePrefix)
		case directive == deleteValue:
			kv, ok := obj[key]
			if !ok {
				return nil, nil, false, fmt.Errorf(`element %d of the list at %s has "$patch": "delete" but no merge key %q`, i, where(path), key)
			}
			deleteKeys = append(deleteKeys, kv)
		case len(obj) == 1:
			replace = replace || directive == replaceValue
		default:
			items = append(items, elem)
		}
	}
	return items, deleteKeys, replace, nil
}

// mergeByKey merges a list of objects element by element by key. Original
// elements keep their place; new patch elements are appended in patch order.
func (m merger) mergeByKey(orig, items, deleteKeys []any, key, path string) ([]any, error) {
	out := make([]any, 0, len(orig)+len(items))
	for _, elem := range orig {
		if !slices.ContainsFunc(deleteKeys, func(kv any) bool { return hasKey(elem, key, kv) }) {
			out = append(out, elem)
		}
	}
	for i, item := range items {
		obj, _ := item.(map[string]any)
		kv, ok := obj[key]
		if !ok {
			return nil, fmt.Errorf("element %d of the list at %s must be an object with the merge key %q, not %s", i, where(path), key, describe(item))
		}
		j := slices.IndexFunc(out, func(elem any) bool { return hasKey(elem, key, kv) })
		var match map[string]any
		if j >= 0 {
			match = out[j].(map[string]any) // hasKey saw a map
		}
		merged, err := m.mergeMap(match, obj, path)
		if err != nil {
			return nil, err
		}
		if j >= 0 {
			out[j] = merged
		} else {
			out = append(out, merged)
		}
	}
	return out, nil
}

// union returns orig followed by the values of add it does not hold yet.
func union(orig, add []any) []any {
	out := slices.Clone(orig)
	for _, v := range add {
		if !slices.ContainsFunc(out, func(o any) bool { return reflect.DeepEqual(o, v) }) {
			out = append(out, v)
		}
	}
	return out
}

// sortByOrder returns list with the elements named by order first, in that
// order, followed by the others in their relative order. Order holds
// merge-key maps for a keyed list and plain values otherwise.
func sortByOrder(list, order []any, key string) ([]any, error) {
	ids := make([]any, len(order))
	for i, entry := range order {
		ids[i] = entry
		if key == "" {
			continue
		}
		obj, _ := entry.(map[string]any)
		kv, ok := obj[key]
		if !ok {
			return nil, fmt.Errorf("entry %d must be an object with the merge key %q, not %s", i, key, describe(entry))
		}
		ids[i] = kv
	}
	rank := func(elem any) int {
		id := elem
		if key != "" {
			obj, _ := elem.(map[string]any)
			id = obj[key] // nil when absent: ranked after the listed ones
		}
		if i := slices.IndexFunc(ids, func(x any) bool { return reflect.DeepEqual(x, id) }); i >= 0 {
			return i
		}
		return len(ids)
	}
	out := slices.Clone(list)
	slices.SortStableFunc(out, func(a, b any) int { return cmp.Compare(rank(a), rank(b)) })
	return out, nil
}

// hasKey reports whether elem is an object whose key field equals want.
func hasKey(elem any, key string, want any) bool {
	obj, _ := elem.(map[string]any)
	v, ok := obj[key]
	return ok && reflect.DeepEqual(v, want)
}

// patchValue checks the value of a "$patch" directive.
func patchValue(v any, path string) (string, error) {
	s, _ := v.(string)
	switch s {
	case mergeValue, replaceValue, deleteValue:
		return s, nil
	}
	return "", fmt.Errorf(`"$patch" at %s must be "merge", "replace" or "delete", not %s`, where(path), describe(v))
}

// stringList checks a "$retainKeys" value; its error completes a sentence.
func stringList(v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("must be a list of strings, not %s", describe(v))
	}
	out := make([]string, 0, len(list))
	for i, item := range list {
		s, ok := item.(string)
		if !ok {
			return nil, fmt.Errorf("must be a list of strings, but entry %d is %s", i, describe(item))
		}
		out = append(out, s)
	}
	return out, nil
}

// isDirective reports whether a patch map key is a directive, not a field.
func isDirective(key string) bool {
	return key == patchDirective || key == retainKeysDirective ||
		strings.HasPrefix(key, setElementOrderPrefix) ||
		strings.HasPrefix(key, deleteFromPrimitivePrefix)
}

func addField(m map[string][]any, field string, list []any) map[string][]any {
	if m == nil {
		m = map[string][]any{}
	}
	m[field] = list
	return m
}

// join appends a field to a path; the top level is "".
func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

// where names a path in an error message.
func where(path string) string {
	if path == "" {
		return "the top level"
	}
	return fmt.Sprintf("%q", path)
}

// describe names a JSON value in an error message.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("%q", v)
	case json.Number:
		return "the number " + v.String()
	case bool:
		return fmt.Sprintf("%t", v)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
