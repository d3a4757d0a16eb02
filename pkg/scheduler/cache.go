package scheduler

import (
	"slices"
	"strings"
	"sync"

	"minik8s/pkg/apis/core"
	"minik8s/pkg/client"
)

// Cache is the scheduler's view of the nodes and of what the pods placed
// on them take. Informer handlers feed it nodes and bound pods; the
// scheduling loop adds assumed pods.
//
// An assumed pod is one the scheduler has chosen a node for and is
// binding: it is counted on that node from the moment of the choice, so
// the next decision, made before the binding's round trip is over, does
// not hand out the same room twice (kube-scheduler's "assume"). Then
// either the informer shows the pod bound (AddPod: the assumption becomes
// fact, on whatever node the API server says) or the binding fails and
// the scheduler calls Forget. No timer expires assumptions: the informer
// converges on the server's state, so one of the two always happens.
//
// A Cache is safe for concurrent use.
type Cache struct {
	mu    sync.RWMutex
	nodes map[string]*NodeInfo
	// pods maps the key of every pod counted to the node it is counted
	// on and whether it is only assumed. Invariant: pods[k].node names a
	// NodeInfo whose pods hold k, and nothing else holds k.
	pods map[string]podState
	// list is the NodeInfos with a Node, sorted by name, rebuilt on the
	// next Place after a node came or went (nil: stale).
	list []*NodeInfo
}

type podState struct {
	node    string
	assumed bool
}

// NewCache returns an empty Cache.
func NewCache() *Cache {
	return &Cache{nodes: map[string]*NodeInfo{}, pods: map[string]podState{}}
}

// SetNode records the current state of a node (added or updated).
func (c *Cache) SetNode(node *core.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.nodes[node.Name]
	if !ok {
		n = NewNodeInfo(nil)
		c.nodes[node.Name] = n
	}
	if n.Node == nil {
		c.list = nil
	}
	n.setNode(node)
}

// RemoveNode forgets a node. Its pods stay counted on a NodeInfo without
// a Node until they go too: they may still be running there, and a node
// that comes back under the same name still holds them.
func (c *Cache) RemoveNode(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.nodes[name]
	if !ok {
		return
	}
	n.setNode(nil)
	c.list = nil
	c.dropIfEmpty(name)
}

// AddPod records a pod the API server shows bound to a node (added or
// updated), confirming its assumption if the scheduler made one. Pods
// without a node are ignored.
func (c *Cache) AddPod(pod *core.Pod) {
	if pod.Spec.NodeName == "" {
		return
	}
	p := NewPodInfo(pod)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removeLocked(p.Key)
	c.addLocked(p, pod.Spec.NodeName, false)
}

// RemovePod stops counting the pod with key (deleted, or finished).
func (c *Cache) RemovePod(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removeLocked(key)
}

// Place runs choose on the candidate nodes and assumes p on the node it
// returns, as one step: no other change to the cache can come between
// the decision and the accounting. It returns choose's answer.
func (c *Cache) Place(p *PodInfo, choose func(nodes []*NodeInfo) (string, error)) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.list == nil {
		c.rebuildList()
	}
	node, err := choose(c.list)
	if err != nil {
		return "", err
	}
	c.removeLocked(p.Key)
	c.addLocked(p, node, true)
	return node, nil
}

// Forget drops the assumption made for key, if it is still only an
// assumption: once the informer showed the pod bound, the server's word
// stands.
func (c *Cache) Forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.pods[key]; ok && st.assumed {
		c.removeLocked(key)
	}
}

// IsAssumed reports whether key is counted as assumed, not yet seen bound.
func (c *Cache) IsAssumed(key string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.pods[key].assumed
}

// Node returns a copy of the accounting of one node, for tests and
// metrics: Requested and the number of pods.
func (c *Cache) Node(name string) (requested Resources, pods int, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n, ok := c.nodes[name]
	if !ok {
		return Resources{}, 0, false
	}
	return n.Requested, n.NumPods(), true
}

func (c *Cache) addLocked(p *PodInfo, node string, assumed bool) {
	n, ok := c.nodes[node]
	if !ok {
		n = NewNodeInfo(nil)
		n.Name = node
		c.nodes[node] = n
	}
	n.addPod(p)
	c.pods[p.Key] = podState{node: node, assumed: assumed}
}

func (c *Cache) removeLocked(key string) {
	st, ok := c.pods[key]
	if !ok {
		return
	}
	delete(c.pods, key)
	if n, ok := c.nodes[st.node]; ok {
		n.removePod(key)
		c.dropIfEmpty(st.node)
	}
}

// dropIfEmpty deletes a NodeInfo that has neither a Node nor pods.
func (c *Cache) dropIfEmpty(name string) {
	if n := c.nodes[name]; n != nil && n.Node == nil && n.NumPods() == 0 {
		delete(c.nodes, name)
	}
}

func (c *Cache) rebuildList() {
	c.list = make([]*NodeInfo, 0, len(c.nodes))
	for _, n := range c.nodes {
		if n.Node != nil {
			c.list = append(c.list, n)
		}
	}
	// A fixed order makes a seeded run reproducible.
	slices.SortFunc(c.list, func(a, b *NodeInfo) int { return strings.Compare(a.Name, b.Name) })
}

// podKey is client.KeyOf for a pod.
func podKey(pod *core.Pod) string { return client.KeyOf(pod) }
