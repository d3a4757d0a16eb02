package serviceaccount

import (
	"context"
	"testing"
	"time"

	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/apiserver/apiservertest"
	"minik8s/pkg/client"
	"minik8s/pkg/client/events"
)

func TestEveryNamespaceGetsTheDefaultServiceAccountAndTheCA(t *testing.T) {
	s := apiservertest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	f := client.NewFactory(s.Client, 0)
	rec := events.New(s.Client, "serviceaccount-controller", "test")
	sc := New(s.Client, f, rec)
	sc.RootCA = []byte("-----BEGIN CERTIFICATE-----\ntest\n-----END CERTIFICATE-----\n")
	f.Start(ctx)
	done := make(chan struct{})
	go func() { sc.Run(ctx, 1); close(done) }()
	t.Cleanup(func() { cancel(); <-done; f.Wait() })
	if err := s.Client.Create(ctx, &core.Namespace{ObjectMeta: meta.ObjectMeta{Name: "dev"}}); err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{"default", "dev"} {
		deadline := time.Now().Add(10 * time.Second)
		for {
			var sa core.ServiceAccount
			var cm core.ConfigMap
			errSA := s.Client.Get(ctx, ns, "default", &sa)
			errCM := s.Client.Get(ctx, ns, RootCAConfigMap, &cm)
			if errSA == nil && errCM == nil && cm.Data["ca.crt"] == string(sc.RootCA) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("namespace %s: default ServiceAccount %v, CA ConfigMap %v %q", ns, errSA, errCM, cm.Data)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}
