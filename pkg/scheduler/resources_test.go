package scheduler

import (
	"testing"

	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/resource"
)

func TestPodRequests(t *testing.T) {
	sidecar := func(cpu, mem string) core.Container {
		c := container(cpu, mem)
		c.RestartPolicy = ptr(core.RestartPolicyAlways)
		return c
	}
	withInit := func(p *core.Pod, cs ...core.Container) *core.Pod {
		p.Spec.InitContainers = cs
		return p
	}
	const mi = 1 << 20
	cases := []struct {
		name          string
		pod           *core.Pod
		want, nonZero Resources
	}{
		{"one container", pod("p", "250m", "64Mi"),
			Resources{250, 64 * mi, 1}, Resources{250, 64 * mi, 1}},
		{"app containers add up", pod("p", "250m", "64Mi", "500m", "128Mi"),
			Resources{750, 192 * mi, 1}, Resources{750, 192 * mi, 1}},
		{"no requests: zero, but defaults for scoring", pod("p"),
			Resources{0, 0, 1}, Resources{100, 200 * mi, 1}},
		{"defaults per container", pod("p", "1", "", "", "1Gi"),
			Resources{1000, 1024 * mi, 1}, Resources{1100, 1224 * mi, 1}},
		{"init container bigger than the app: the max counts",
			withInit(pod("p", "250m", "64Mi", "250m", "64Mi"), container("1", "32Mi")),
			Resources{1000, 128 * mi, 1}, Resources{1000, 128 * mi, 1}},
		{"init containers run one at a time: the biggest counts, not the sum",
			withInit(pod("p", "100m", "64Mi"), container("500m", "1Gi"), container("600m", "10Mi")),
			Resources{600, 1024 * mi, 1}, Resources{600, 1024 * mi, 1}},
		{"a sidecar adds to the app and to later init containers",
			withInit(pod("p", "1", "100Mi"), sidecar("200m", "50Mi"), container("1", "10Mi")),
			Resources{1200, 150 * mi, 1}, Resources{1200, 150 * mi, 1}},
		{"an init container before the sidecar does not add it",
			withInit(pod("p", "100m", "10Mi"), container("1", "10Mi"), sidecar("200m", "10Mi")),
			Resources{1000, 20 * mi, 1}, Resources{1000, 20 * mi, 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := PodRequests(tc.pod, false); got != tc.want {
				t.Errorf("PodRequests: got %+v; want %+v", got, tc.want)
			}
			if got := PodRequests(tc.pod, true); got != tc.nonZero {
				t.Errorf("PodRequests(nonZero): got %+v; want %+v", got, tc.nonZero)
			}
		})
	}
}

func TestNodeAllocatable(t *testing.T) {
	n := node("n", "4", "8Gi", 50)
	if got, want := NodeAllocatable(n), (Resources{4000, 8 << 30, 50}); got != want {
		t.Errorf("allocatable: got %+v; want %+v", got, want)
	}
	// Only capacity reported, and no pod count: capacity, and 110 pods.
	n.Status.Allocatable = nil
	delete(n.Status.Capacity, core.ResourcePods)
	n.Status.Capacity[core.ResourceCPU] = resource.MustParse("3500m")
	if got, want := NodeAllocatable(n), (Resources{3500, 8 << 30, 110}); got != want {
		t.Errorf("capacity only: got %+v; want %+v", got, want)
	}
}
