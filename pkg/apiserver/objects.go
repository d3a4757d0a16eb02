package apiserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/store"
)

var fieldCache sync.Map // reflect.Type -> map[string]reflect.Type

// key is where an object lives in etcd:
// /registry/{group}/{resource}/{namespace}/{name}, core group as "core".
func key(k *apis.Kind, ns, name string) string {
	return prefix(k, ns) + name
}

// prefix is the key prefix of a collection; it always ends in "/" so that
// namespace "a" never matches "ab".
func prefix(k *apis.Kind, ns string) string {
	g := k.Group
	if g == "" {
		g = "core"
	}
	p := "/registry/" + g + "/" + k.Resource + "/"
	if k.Namespaced && ns != "" {
		p += ns + "/"
	}
	return p
}

// decodeStored turns a stored value into an object whose resourceVersion
// is the value's mod revision.
func decodeStored(k *apis.Kind, kv store.KV) (meta.Object, error) {
	obj := k.New()
	if err := json.Unmarshal(kv.Value, obj); err != nil {
		return nil, fmt.Errorf("stored %s %s is corrupt: %w", k.Kind, kv.Key, err)
	}
	setTypeMeta(k, obj)
	obj.GetObjectMeta().ResourceVersion = strconv.FormatInt(kv.ModRevision, 10)
	return obj, nil
}

// encodeForStore is the stored form of obj: its JSON without a
// resourceVersion (the revision is etcd's to say).
func encodeForStore(obj meta.Object) ([]byte, error) {
	m := obj.GetObjectMeta()
	rv := m.ResourceVersion
	m.ResourceVersion = ""
	b, err := json.Marshal(obj)
	m.ResourceVersion = rv
	return b, err
}

func setTypeMeta(k *apis.Kind, obj meta.Object) {
	tm := obj.GetTypeMeta()
	tm.APIVersion, tm.Kind = k.APIVersion(), k.Kind
}

// structField returns the named top-level field of obj (a struct pointer).
func structField(obj any, name string) (reflect.Value, bool) {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}, false
	}
	f := v.Elem().FieldByName(name)
	return f, f.IsValid()
}

// hasSpec says whether the kind has a desired-state spec (and so a
// generation counting its changes).
func hasSpec(k *apis.Kind) bool {
	_, ok := structField(k.New(), "Spec")
	return ok
}

// jsonEqual compares two values by their JSON encodings, so nil and empty
// collections (both omitted) count as equal.
func jsonEqual(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// specChanged says whether an update changes the desired state.
func specChanged(oldObj, newObj meta.Object) bool {
	o, ok1 := structField(oldObj, "Spec")
	n, ok2 := structField(newObj, "Spec")
	return ok1 && ok2 && !jsonEqual(o.Interface(), n.Interface())
}

// copyField sets dst.name = src.name (both struct pointers of one type).
func copyField(dst, src meta.Object, name string) {
	d, ok1 := structField(dst, name)
	s, ok2 := structField(src, name)
	if ok1 && ok2 {
		d.Set(s)
	}
}

// resetField sets obj.name to its zero value.
func resetField(obj meta.Object, name string) {
	if f, ok := structField(obj, name); ok {
		f.Set(reflect.Zero(f.Type()))
	}
}

// fieldValue reads a field selector path such as "spec.nodeName" from obj
// by JSON names, rendering the value as a field selector compares it.
func fieldValue(obj any, path string) (string, bool) {
	v := reflect.ValueOf(obj)
	for _, name := range strings.Split(path, ".") {
		for v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return "", true
			}
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct {
			return "", false
		}
		f, ok := jsonFieldByName(v, name)
		if !ok {
			return "", false
		}
		v = f
	}
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "", true
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.String:
		return v.String(), true
	case reflect.Bool:
		return strconv.FormatBool(v.Bool()), true
	case reflect.Int, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10), true
	}
	if s, ok := v.Interface().(fmt.Stringer); ok {
		return s.String(), true
	}
	return fmt.Sprint(v.Interface()), true
}

// jsonFieldByName finds the struct field (or inlined embedded field) whose
// JSON name is name.
func jsonFieldByName(v reflect.Value, name string) (reflect.Value, bool) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && tag == "" {
			if fv, ok := jsonFieldByName(v.Field(i), name); ok {
				return fv, true
			}
			continue
		}
		if tag == name || (tag == "" && f.Name == name) {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}
