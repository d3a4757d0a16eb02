package client

import (
	"fmt"
	"strings"
	"sync"

	"minik8s/pkg/apis/meta"
)

// KeyOf returns the cache and work-queue key of obj: "namespace/name", or
// just "name" for a cluster-scoped object.
func KeyOf(obj meta.Object) string {
	m := obj.GetObjectMeta()
	if m.Namespace == "" {
		return m.Name
	}
	return m.Namespace + "/" + m.Name
}

// SplitKey is the inverse of KeyOf: "ns/name" gives ("ns", "name") and
// "name" gives ("", "name").
func SplitKey(key string) (namespace, name string) {
	if ns, n, ok := strings.Cut(key, "/"); ok {
		return ns, n
	}
	return "", key
}

// IndexFunc returns the values under which obj is filed in one index (for
// example its namespace, or the node a pod is bound to). It must be pure:
// the same object always gives the same values.
type IndexFunc func(obj meta.Object) []string

// NamespaceIndex is the index every Store has: objects by namespace
// ("" for cluster-scoped objects).
const NamespaceIndex = "namespace"

// NamespaceIndexFunc files an object under its namespace.
func NamespaceIndexFunc(obj meta.Object) []string {
	return []string{obj.GetObjectMeta().Namespace}
}

// Store is a thread-safe local cache of API objects keyed by KeyOf, with
// named secondary indexes. An Informer keeps one in step with the API
// server; controllers read it instead of asking the server.
//
// Objects in a Store are shared with every reader and with the Informer:
// never modify an object you got from a Store. Copy it first, change the
// copy, and send the copy to the API server; the cache changes when the
// watch reports the write back.
//
// The Informer is the Store's one writer. Tests may fill a Store directly
// with Add and Delete.
type Store struct {
	mu       sync.RWMutex
	items    map[string]meta.Object
	indexers map[string]IndexFunc
	// indices[index][value] is the set of keys whose object the index
	// files under value. Invariant: it is exactly what indexers give for
	// the objects in items.
	indices map[string]map[string]map[string]struct{}
}

// NewStore returns an empty Store with the NamespaceIndex.
func NewStore() *Store {
	s := &Store{
		items:    map[string]meta.Object{},
		indexers: map[string]IndexFunc{},
		indices:  map[string]map[string]map[string]struct{}{},
	}
	if err := s.AddIndexers(map[string]IndexFunc{NamespaceIndex: NamespaceIndexFunc}); err != nil {
		panic(err) // cannot happen: the store is new
	}
	return s
}

// AddIndexers adds named indexes and files the objects already cached in
// them. It fails, adding none, if a name is already in use.
func (s *Store) AddIndexers(indexers map[string]IndexFunc) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name := range indexers {
		if _, ok := s.indexers[name]; ok {
			return fmt.Errorf("index %q already exists", name)
		}
	}
	for name, fn := range indexers {
		s.indexers[name] = fn
		s.indices[name] = map[string]map[string]struct{}{}
		for key, obj := range s.items {
			s.fileLocked(name, key, obj)
		}
	}
	return nil
}

// Add inserts obj, replacing any object with the same key.
func (s *Store) Add(obj meta.Object) {
	key := KeyOf(obj)
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.items[key]; ok {
		s.unfileLocked(key, old)
	}
	s.items[key] = obj
	for name := range s.indexers {
		s.fileLocked(name, key, obj)
	}
}

// Delete removes the object with key, if any.
func (s *Store) Delete(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.items[key]; ok {
		s.unfileLocked(key, old)
		delete(s.items, key)
	}
}

// fileLocked adds key to the values index name gives obj.
func (s *Store) fileLocked(name, key string, obj meta.Object) {
	idx := s.indices[name]
	for _, v := range s.indexers[name](obj) {
		if idx[v] == nil {
			idx[v] = map[string]struct{}{}
		}
		idx[v][key] = struct{}{}
	}
}

// unfileLocked removes key from every index entry of obj.
func (s *Store) unfileLocked(key string, obj meta.Object) {
	for name, fn := range s.indexers {
		idx := s.indices[name]
		for _, v := range fn(obj) {
			delete(idx[v], key)
			if len(idx[v]) == 0 {
				delete(idx, v) // keep the index from growing with dead values
			}
		}
	}
}

// Get returns the cached object with key. Do not modify it.
func (s *Store) Get(key string) (meta.Object, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	obj, ok := s.items[key]
	return obj, ok
}

// List returns every cached object, in no particular order. Do not modify
// them.
func (s *Store) List() []meta.Object {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]meta.Object, 0, len(s.items))
	for _, obj := range s.items {
		out = append(out, obj)
	}
	return out
}

// ListKeys returns the key of every cached object, in no particular order.
func (s *Store) ListKeys() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.items))
	for key := range s.items {
		out = append(out, key)
	}
	return out
}

// ByIndex returns the objects the named index files under value, in no
// particular order; ByIndex(NamespaceIndex, "default") lists one namespace.
// Do not modify them. It panics if the index was never added: that is a
// programming error, not a runtime condition.
func (s *Store) ByIndex(index, value string) []meta.Object {
	s.mu.RLock()
	defer s.mu.RUnlock()
	idx, ok := s.indices[index]
	if !ok {
		panic(fmt.Sprintf("client: Store has no index %q", index))
	}
	out := make([]meta.Object, 0, len(idx[value]))
	for key := range idx[value] {
		out = append(out, s.items[key])
	}
	return out
}
