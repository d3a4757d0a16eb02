package scheduler

import (
	"errors"
	"testing"

	"minik8s/pkg/apis/core"
)

func bound(p *core.Pod, nodeName string) *core.Pod {
	p.Spec.NodeName = nodeName
	return p
}

func wantRequested(t *testing.T, c *Cache, nodeName string, cpu int64, pods int) {
	t.Helper()
	req, n, _ := c.Node(nodeName)
	if req.MilliCPU != cpu || n != pods {
		t.Errorf("node %s: got %dm CPU by %d pods; want %dm by %d", nodeName, req.MilliCPU, n, cpu, pods)
	}
}

func placeOn(name string) func([]*NodeInfo) (string, error) {
	return func([]*NodeInfo) (string, error) { return name, nil }
}

func TestCacheAssumeConfirmForget(t *testing.T) {
	c := NewCache()
	c.SetNode(node("n1", "4", "8Gi", 10))
	c.SetNode(node("n2", "4", "8Gi", 10))
	c.AddPod(bound(pod("running", "1", "1Gi"), "n1"))
	wantRequested(t, c, "n1", 1000, 1)

	// Assumed: counted at once.
	p := pod("p", "500m", "1Gi")
	if _, err := c.Place(NewPodInfo(p), placeOn("n1")); err != nil {
		t.Fatal(err)
	}
	wantRequested(t, c, "n1", 1500, 2)
	if !c.IsAssumed("default/p") {
		t.Error("p not assumed after Place")
	}
	// Forgotten: uncounted.
	c.Forget("default/p")
	wantRequested(t, c, "n1", 1000, 1)

	// Assumed on n1 but the server says n2 (another scheduler won): the
	// server's word stands, and a late Forget changes nothing.
	c.Place(NewPodInfo(p), placeOn("n1"))
	c.AddPod(bound(pod("p", "500m", "1Gi"), "n2"))
	c.Forget("default/p")
	wantRequested(t, c, "n1", 1000, 1)
	wantRequested(t, c, "n2", 500, 1)
	if c.IsAssumed("default/p") {
		t.Error("p still assumed after the informer showed it bound")
	}

	c.RemovePod("default/p")
	wantRequested(t, c, "n2", 0, 0)
}

func TestCachePlaceSeesOnlyKnownNodesAndPropagatesErrors(t *testing.T) {
	c := NewCache()
	c.SetNode(node("b", "1", "1Gi", 10))
	c.SetNode(node("a", "1", "1Gi", 10))
	c.AddPod(bound(pod("orphan", "1", ""), "unknown")) // its node is not listed yet
	var seen []string
	_, err := c.Place(NewPodInfo(pod("p")), func(nodes []*NodeInfo) (string, error) {
		for _, n := range nodes {
			seen = append(seen, n.Name)
		}
		return "", errors.New("no")
	})
	if err == nil || len(seen) != 2 || seen[0] != "a" || seen[1] != "b" {
		t.Errorf("got candidates %v, err %v; want [a b] in name order and the error", seen, err)
	}
	if c.IsAssumed("default/p") {
		t.Error("a failed Place assumed the pod")
	}
	// The node appears: its pod was counted all along.
	c.SetNode(node("unknown", "2", "1Gi", 10))
	wantRequested(t, c, "unknown", 1000, 1)
}

func TestCacheRemovedNodeKeepsItsPodsCounted(t *testing.T) {
	c := NewCache()
	c.SetNode(node("n", "2", "1Gi", 10))
	c.AddPod(bound(pod("p", "1", ""), "n"))
	c.RemoveNode("n")
	c.SetNode(node("n", "2", "1Gi", 10))
	wantRequested(t, c, "n", 1000, 1)
	c.RemovePod("default/p")
	c.RemoveNode("n")
	if _, _, ok := c.Node("n"); ok {
		t.Error("an empty removed node is still cached")
	}
}
