// Package serviceaccount is the controller that gives every namespace
// what its pods' API credentials need: the "default" ServiceAccount (the
// one pods run as unless they name another) and the kube-root-ca.crt
// ConfigMap with the cluster CA (projected into every pod as ca.crt), as
// Kubernetes' serviceaccount and root-ca-cert-publisher controllers do.
//
// The caller starts the informer factory and the recorder; Run stops
// when its context is done. The controller never deletes anything: the
// namespace controller removes a namespace's content.
package serviceaccount

import (
	"context"
	"errors"
	"log/slog"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/client"
	"minik8s/pkg/client/events"
	"minik8s/pkg/client/workqueue"
)

// RootCAConfigMap is the ConfigMap holding the cluster CA as ca.crt.
const RootCAConfigMap = "kube-root-ca.crt"

// Controller keeps the default ServiceAccount and the CA ConfigMap in
// every active namespace.
type Controller struct {
	c          *client.Client
	rec        *events.Recorder
	queue      *workqueue.Queue
	log        *slog.Logger
	namespaces *client.Informer
	accounts   *client.Informer
	configMaps *client.Informer
	// RootCA is the PEM CA published in kube-root-ca.crt. New sets it to
	// the CA the client verifies the API server with; empty: the
	// ConfigMap is not managed (a plain-HTTP cluster has no CA).
	RootCA []byte
}

// New returns the controller, watching through f.
func New(c *client.Client, f *client.Factory, rec *events.Recorder) *Controller {
	nsKind, _ := apis.ByResource("", "namespaces")
	saKind, _ := apis.ByResource("", "serviceaccounts")
	cmKind, _ := apis.ByResource("", "configmaps")
	sc := &Controller{
		c: c, rec: rec, RootCA: c.CAData(),
		queue:      workqueue.New("serviceaccount"),
		log:        slog.Default().With("controller", "serviceaccount"),
		namespaces: f.For(nsKind),
		accounts:   f.For(saKind),
		configMaps: f.For(cmKind),
	}
	sc.namespaces.AddEventHandler(client.Handler{
		OnAdd:    func(obj meta.Object) { sc.queue.Add(obj.GetObjectMeta().Name) },
		OnUpdate: func(_, obj meta.Object) { sc.queue.Add(obj.GetObjectMeta().Name) },
	})
	// A deleted or edited default ServiceAccount or CA ConfigMap comes back.
	byNamespace := func(name string) func(meta.Object) {
		return func(obj meta.Object) {
			if m := obj.GetObjectMeta(); m.Name == name {
				sc.queue.Add(m.Namespace)
			}
		}
	}
	sc.accounts.AddEventHandler(client.Handler{OnDelete: byNamespace(core.DefaultServiceAccountName)})
	sc.configMaps.AddEventHandler(client.Handler{
		OnUpdate: func(_, obj meta.Object) { byNamespace(RootCAConfigMap)(obj) },
		OnDelete: byNamespace(RootCAConfigMap),
	})
	return sc
}

// Run waits for the caches, then syncs namespaces with workers workers
// until ctx is done.
func (sc *Controller) Run(ctx context.Context, workers int) {
	if !sc.namespaces.WaitForSync(ctx) || !sc.accounts.WaitForSync(ctx) || !sc.configMaps.WaitForSync(ctx) {
		sc.queue.ShutDown()
		return
	}
	workqueue.Run(ctx, sc.queue, workers, sc.sync)
}

// sync converges one namespace: create what is missing, correct a CA
// ConfigMap that differs. Terminating namespaces are left alone.
func (sc *Controller) sync(ctx context.Context, ns string) error {
	obj, ok := sc.namespaces.Store().Get(ns)
	if !ok || obj.GetObjectMeta().DeletionTimestamp != nil {
		return nil
	}
	if _, ok := sc.accounts.Store().Get(ns + "/" + core.DefaultServiceAccountName); !ok {
		sa := &core.ServiceAccount{ObjectMeta: meta.ObjectMeta{Name: core.DefaultServiceAccountName, Namespace: ns}}
		if err := sc.c.Create(ctx, sa); err != nil && !errors.Is(err, apierrors.ErrAlreadyExists) {
			return err
		}
	}
	if len(sc.RootCA) == 0 {
		return nil
	}
	want := string(sc.RootCA)
	cached, ok := sc.configMaps.Store().Get(ns + "/" + RootCAConfigMap)
	if !ok {
		cm := &core.ConfigMap{ObjectMeta: meta.ObjectMeta{Name: RootCAConfigMap, Namespace: ns}, Data: map[string]string{"ca.crt": want}}
		if err := sc.c.Create(ctx, cm); err != nil && !errors.Is(err, apierrors.ErrAlreadyExists) {
			return err
		}
		return nil
	}
	cm := cached.(*core.ConfigMap)
	if cm.Data["ca.crt"] == want {
		return nil
	}
	fixed := *cm // never modify the cached object
	fixed.Data = map[string]string{"ca.crt": want}
	for k, v := range cm.Data {
		if k != "ca.crt" {
			fixed.Data[k] = v
		}
	}
	return sc.c.Update(ctx, &fixed)
}
