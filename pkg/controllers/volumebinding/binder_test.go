package volumebinding

import (
	"context"
	"fmt"
	"testing"
	"time"

	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/apis/resource"
	"minik8s/pkg/apiserver/apiservertest"
	"minik8s/pkg/client"
	"minik8s/pkg/client/events"
)

const ns = "default"

var spf = fmt.Sprintf

func startBinder(t *testing.T) *client.Client {
	t.Helper()
	s := apiservertest.Start(t)
	c := s.Client
	ctx, cancel := context.WithCancel(context.Background())
	f := client.NewFactory(c, 0)
	rec := events.New(c, "volumebinding-controller", "test")
	ctrl := New(c, f, rec, Config{})
	f.Start(ctx)
	done := make(chan struct{})
	go rec.Run(ctx)
	go func() { ctrl.Run(ctx, 2); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		f.Wait()
	})
	return c
}

func waitFor(t *testing.T, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, desc := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v: %s", timeout, desc)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func newClaim(name, size string, class *string) *core.PersistentVolumeClaim {
	return &core.PersistentVolumeClaim{
		ObjectMeta: meta.ObjectMeta{Name: name, Namespace: ns},
		Spec: core.PersistentVolumeClaimSpec{
			AccessModes:      []string{core.ReadWriteOnce},
			Resources:        core.VolumeResourceRequirements{Requests: core.ResourceList{core.ResourceStorage: resource.MustParse(size)}},
			StorageClassName: class,
		},
	}
}

func newPV(name, size, class string) *core.PersistentVolume {
	return &core.PersistentVolume{
		ObjectMeta: meta.ObjectMeta{Name: name},
		Spec: core.PersistentVolumeSpec{
			Capacity:         core.ResourceList{core.ResourceStorage: resource.MustParse(size)},
			HostPath:         &core.HostPathVolumeSource{Path: "/srv/" + name},
			AccessModes:      []string{core.ReadWriteOnce, core.ReadOnlyMany},
			StorageClassName: class,
		},
	}
}

// waitBound waits until claim and the volume it names are bound to each
// other, and returns the volume.
func waitBound(t *testing.T, c *client.Client, claim string) *core.PersistentVolume {
	t.Helper()
	ctx := context.Background()
	var pv core.PersistentVolume
	waitFor(t, 15*time.Second, func() (bool, string) {
		var pvc core.PersistentVolumeClaim
		if err := c.Get(ctx, ns, claim, &pvc); err != nil {
			t.Fatal(err)
		}
		if pvc.Spec.VolumeName == "" {
			return false, spf("claim %s: no volumeName, phase %q", claim, pvc.Status.Phase)
		}
		if err := c.Get(ctx, "", pvc.Spec.VolumeName, &pv); err != nil {
			return false, spf("claim %s names volume %s: %v", claim, pvc.Spec.VolumeName, err)
		}
		r := pv.Spec.ClaimRef
		got, want := pvc.Status.Capacity[core.ResourceStorage], pv.Spec.Capacity[core.ResourceStorage]
		ok := pvc.Status.Phase == core.ClaimBound && pv.Status.Phase == core.VolumeBound && r != nil &&
			r.Name == claim && r.Namespace == ns && r.UID == pvc.UID && got.Cmp(want) == 0 && len(pvc.Status.AccessModes) > 0
		return ok, spf("claim phase %q capacity %v modes %v; volume %s phase %q claimRef %+v; want both Bound to each other",
			pvc.Status.Phase, pvc.Status.Capacity, pvc.Status.AccessModes, pv.Name, pv.Status.Phase, r)
	})
	return &pv
}

func TestBinderProvisionsAHostPathVolumeForAClaim(t *testing.T) {
	c := startBinder(t)
	if err := c.Create(context.Background(), newClaim("data-web-0", "1Gi", nil)); err != nil {
		t.Fatal(err)
	}
	pv := waitBound(t, c, "data-web-0")
	if want := "/var/lib/minik8s/volumes/" + pv.Name; pv.Spec.HostPath == nil || pv.Spec.HostPath.Path != want {
		t.Errorf("volume hostPath %+v; want path %s", pv.Spec.HostPath, want)
	}
	if got := pv.Spec.Capacity[core.ResourceStorage]; got.Cmp(resource.MustParse("1Gi")) != 0 {
		t.Errorf("volume capacity %v; want the requested 1Gi", got.String())
	}
	if pv.Spec.PersistentVolumeReclaimPolicy != core.PersistentVolumeReclaimRetain {
		t.Errorf("reclaim policy %q; want Retain", pv.Spec.PersistentVolumeReclaimPolicy)
	}

	// Deleting the claim releases the volume, which keeps its data and
	// is not offered to the next claim of the same name.
	if err := c.Delete(context.Background(), claimKind, ns, "data-web-0", nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, func() (bool, string) {
		var got core.PersistentVolume
		if err := c.Get(context.Background(), "", pv.Name, &got); err != nil {
			t.Fatal(err)
		}
		return got.Status.Phase == core.VolumeReleased, spf("volume phase %q after its claim was deleted; want Released", got.Status.Phase)
	})
	if err := c.Create(context.Background(), newClaim("data-web-0", "1Gi", nil)); err != nil {
		t.Fatal(err)
	}
	if again := waitBound(t, c, "data-web-0"); again.Name == pv.Name {
		t.Errorf("a new claim got released volume %s; want a new volume", pv.Name)
	}
}

func TestBinderPrefersAMatchingExistingVolume(t *testing.T) {
	c := startBinder(t)
	ctx := context.Background()
	manual := "manual"
	for _, pv := range []*core.PersistentVolume{
		newPV("too-small", "500Mi", manual),
		newPV("other-class", "2Gi", "fast"),
		newPV("big", "10Gi", manual),
		newPV("right", "2Gi", manual),
	} {
		if err := c.Create(ctx, pv); err != nil {
			t.Fatal(err)
		}
	}
	// Pre-existing volumes become Available.
	waitFor(t, 15*time.Second, func() (bool, string) {
		var pv core.PersistentVolume
		if err := c.Get(ctx, "", "right", &pv); err != nil {
			t.Fatal(err)
		}
		return pv.Status.Phase == core.VolumeAvailable, spf("volume phase %q; want Available", pv.Status.Phase)
	})

	if err := c.Create(ctx, newClaim("db", "1Gi", &manual)); err != nil {
		t.Fatal(err)
	}
	if pv := waitBound(t, c, "db"); pv.Name != "right" {
		t.Errorf("claim db (1Gi, manual, RWO) bound to %s; want right, the smallest fitting volume", pv.Name)
	}
	// The next claim of the class gets the remaining fitting volume; a
	// claim nothing fits gets a new one.
	if err := c.Create(ctx, newClaim("db-2", "1Gi", &manual)); err != nil {
		t.Fatal(err)
	}
	if pv := waitBound(t, c, "db-2"); pv.Name != "big" {
		t.Errorf("claim db-2 bound to %s; want big", pv.Name)
	}
	if err := c.Create(ctx, newClaim("db-3", "1Gi", &manual)); err != nil {
		t.Fatal(err)
	}
	if pv := waitBound(t, c, "db-3"); pv.Spec.HostPath == nil || pv.Spec.HostPath.Path != VolumeRoot+"/"+pv.Name {
		t.Errorf("claim db-3 bound to %s (%+v); want a provisioned volume", pv.Name, pv.Spec.HostPath)
	}
}
