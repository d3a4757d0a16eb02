package client

import (
	"slices"
	"testing"

	"minik8s/pkg/apis/meta"
)

// testObj is the smallest meta.Object: the tests need only metadata.
type testObj struct {
	meta.TypeMeta
	meta.ObjectMeta
	Node string // something to index on
}

// newObj returns an object with key ("ns/name" or "name"), resourceVersion
// rv and a UID derived from the key.
func newObj(key, rv string) *testObj {
	ns, name := SplitKey(key)
	return &testObj{ObjectMeta: meta.ObjectMeta{
		Namespace: ns, Name: name, ResourceVersion: rv, UID: "uid-" + key,
	}}
}

// keysOf returns the sorted keys of objs.
func keysOf(objs []meta.Object) []string {
	keys := make([]string, 0, len(objs))
	for _, o := range objs {
		keys = append(keys, KeyOf(o))
	}
	slices.Sort(keys)
	return keys
}

func TestKeyOfAndSplitKeyRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		ns, name, key string
	}{
		{"default", "web", "default/web"},
		{"", "node-1", "node-1"}, // cluster-scoped
	} {
		o := &testObj{ObjectMeta: meta.ObjectMeta{Namespace: tc.ns, Name: tc.name}}
		if got := KeyOf(o); got != tc.key {
			t.Errorf("KeyOf(%q, %q) = %q; want %q", tc.ns, tc.name, got, tc.key)
		}
		if ns, name := SplitKey(tc.key); ns != tc.ns || name != tc.name {
			t.Errorf("SplitKey(%q) = %q, %q; want %q, %q", tc.key, ns, name, tc.ns, tc.name)
		}
	}
}

func byNode(obj meta.Object) []string {
	if n := obj.(*testObj).Node; n != "" {
		return []string{n}
	}
	return nil
}

func TestStoreIndexesFollowAddUpdateAndDelete(t *testing.T) {
	s := NewStore()
	a := newObj("ns1/a", "1")
	a.Node = "n1"
	s.Add(a)
	s.Add(newObj("ns2/b", "2"))

	// An index added late files the objects already cached.
	if err := s.AddIndexers(map[string]IndexFunc{"node": byNode}); err != nil {
		t.Fatalf("AddIndexers: %v", err)
	}
	if got := keysOf(s.ByIndex("node", "n1")); !slices.Equal(got, []string{"ns1/a"}) {
		t.Errorf("ByIndex(node, n1) = %v; want [ns1/a]", got)
	}

	// Moving a to another node moves its index entry.
	a2 := newObj("ns1/a", "3")
	a2.Node = "n2"
	s.Add(a2)
	if got := keysOf(s.ByIndex("node", "n1")); len(got) != 0 {
		t.Errorf("ByIndex(node, n1) after the move = %v; want []", got)
	}
	if got := keysOf(s.ByIndex("node", "n2")); !slices.Equal(got, []string{"ns1/a"}) {
		t.Errorf("ByIndex(node, n2) = %v; want [ns1/a]", got)
	}
	if got, ok := s.Get("ns1/a"); !ok || got != a2 {
		t.Errorf("Get(ns1/a) = %v, %v; want the updated object", got, ok)
	}

	if got := keysOf(s.ByIndex(NamespaceIndex, "ns2")); !slices.Equal(got, []string{"ns2/b"}) {
		t.Errorf("ByIndex(namespace, ns2) = %v; want [ns2/b]", got)
	}

	s.Delete("ns1/a")
	if got := keysOf(s.ByIndex("node", "n2")); len(got) != 0 {
		t.Errorf("ByIndex(node, n2) after Delete = %v; want []", got)
	}
	if got := keysOf(s.List()); !slices.Equal(got, []string{"ns2/b"}) {
		t.Errorf("List() = %v; want [ns2/b]", got)
	}
	if got := s.ListKeys(); !slices.Equal(got, []string{"ns2/b"}) {
		t.Errorf("ListKeys() = %v; want [ns2/b]", got)
	}
}

func TestStoreRejectsDuplicateIndexName(t *testing.T) {
	s := NewStore()
	if err := s.AddIndexers(map[string]IndexFunc{NamespaceIndex: NamespaceIndexFunc}); err == nil {
		t.Errorf("AddIndexers(%q) on a new Store = nil; want an error (it is built in)", NamespaceIndex)
	}
}
