package apiserver

import (
	"context"
	"crypto/rand"
	"strconv"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
)

// ServiceAccountMountPath is where every pod finds its API credentials.
const ServiceAccountMountPath = "/var/run/secrets/kubernetes.io/serviceaccount"

// RootCAConfigMap is the ConfigMap in every namespace holding the
// cluster CA (ca.crt), kept by the serviceaccount controller.
const RootCAConfigMap = "kube-root-ca.crt"

// tokenExpirationSeconds is what Kubernetes' admission asks for: a little
// over an hour, so the kubelet's refresh at 80% happens in time.
const tokenExpirationSeconds = 3607

// admitServiceAccount is Kubernetes' ServiceAccount admission for a new
// pod, on a server that issues tokens: unless the pod or its
// ServiceAccount opts out (automountServiceAccountToken: false) or a
// container already mounts something there, it adds the projected volume
// kube-api-access-xxxxx (a bound token, the CA, the namespace) mounted
// read-only at ServiceAccountMountPath in every container, and the
// KUBERNETES_SERVICE_HOST/PORT of the kubernetes Service (which Kubernetes'
// kubelet sets), so an in-cluster client needs no configuration.
func (s *Server) admitServiceAccount(ctx context.Context, k *apis.Kind, obj meta.Object) error {
	pod, ok := obj.(*core.Pod)
	if !ok || s.auth == nil || s.auth.SASigner == nil {
		return nil
	}
	s.addKubernetesServiceEnv(ctx, pod)
	if a := pod.Spec.AutomountServiceAccountToken; a != nil && !*a {
		return nil
	}
	saName := pod.Spec.ServiceAccountName
	if saName == "" {
		saName = core.DefaultServiceAccountName
	}
	saKind, _ := apis.ByResource("", "serviceaccounts")
	if sa, err := s.get(ctx, saKind, pod.Namespace, saName); err == nil && pod.Spec.AutomountServiceAccountToken == nil {
		if a := sa.(*core.ServiceAccount).AutomountServiceAccountToken; a != nil && !*a {
			return nil
		}
	}
	for _, c := range allContainers(pod) {
		for _, m := range c.VolumeMounts {
			if m.MountPath == ServiceAccountMountPath {
				return nil
			}
		}
	}
	name := "kube-api-access-" + randSuffix()
	exp := int64(tokenExpirationSeconds)
	pod.Spec.Volumes = append(pod.Spec.Volumes, core.Volume{Name: name, VolumeSource: core.VolumeSource{Projected: &core.ProjectedVolumeSource{
		Sources: []core.VolumeProjection{
			{ServiceAccountToken: &core.ServiceAccountTokenProjection{ExpirationSeconds: &exp, Path: "token"}},
			{ConfigMap: &core.ConfigMapProjection{LocalObjectReference: core.LocalObjectReference{Name: RootCAConfigMap},
				Items: []core.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
			{DownwardAPI: &core.DownwardAPIProjection{Items: []core.DownwardAPIVolumeFile{
				{Path: "namespace", FieldRef: &core.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
		},
	}}})
	mount := core.VolumeMount{Name: name, ReadOnly: true, MountPath: ServiceAccountMountPath}
	for i := range pod.Spec.InitContainers {
		pod.Spec.InitContainers[i].VolumeMounts = append(pod.Spec.InitContainers[i].VolumeMounts, mount)
	}
	for i := range pod.Spec.Containers {
		pod.Spec.Containers[i].VolumeMounts = append(pod.Spec.Containers[i].VolumeMounts, mount)
	}
	return nil
}

func allContainers(pod *core.Pod) []core.Container {
	return append(append([]core.Container(nil), pod.Spec.InitContainers...), pod.Spec.Containers...)
}

// addKubernetesServiceEnv sets KUBERNETES_SERVICE_HOST and _PORT from the
// default/kubernetes Service in every container that does not set them.
func (s *Server) addKubernetesServiceEnv(ctx context.Context, pod *core.Pod) {
	svcKind, _ := apis.ByResource("", "services")
	obj, err := s.get(ctx, svcKind, "default", "kubernetes")
	if err != nil {
		return
	}
	svc := obj.(*core.Service)
	if svc.Spec.ClusterIP == "" || len(svc.Spec.Ports) == 0 {
		return
	}
	env := []core.EnvVar{{Name: "KUBERNETES_SERVICE_HOST", Value: svc.Spec.ClusterIP},
		{Name: "KUBERNETES_SERVICE_PORT", Value: strconv.Itoa(int(svc.Spec.Ports[0].Port))}}
	add := func(c *core.Container) {
		for _, e := range env {
			found := false
			for _, have := range c.Env {
				found = found || have.Name == e.Name
			}
			if !found {
				c.Env = append(c.Env, e)
			}
		}
	}
	for i := range pod.Spec.InitContainers {
		add(&pod.Spec.InitContainers[i])
	}
	for i := range pod.Spec.Containers {
		add(&pod.Spec.Containers[i])
	}
}

func randSuffix() string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	b := make([]byte, 5)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
