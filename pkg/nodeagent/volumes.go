package nodeagent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/core"
)

// prepareVolumes makes every volume of the pod exist on the node and returns
// the host path of each by name. emptyDir is a directory of the pod,
// hostPath is the node's path, configMap and secret are files written from
// the objects (rewritten at every container start).
func (a *Agent) prepareVolumes(ctx context.Context, pod *core.Pod) (map[string]string, error) {
	out := map[string]string{}
	base := filepath.Join(podDir(a.cfg.RootDir, pod.UID), "volumes")
	for _, v := range pod.Spec.Volumes {
		dir := filepath.Join(base, v.Name)
		switch {
		case v.EmptyDir != nil:
			if err := os.MkdirAll(dir, 0o777); err != nil {
				return nil, err
			}
			os.Chmod(dir, 0o777) // any user in any container may write
		case v.HostPath != nil:
			dir = v.HostPath.Path
			if t := v.HostPath.Type; t != nil && *t == "DirectoryOrCreate" {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					return nil, err
				}
			}
		case v.ConfigMap != nil:
			data, err := a.configMapData(ctx, pod.Namespace, v.ConfigMap.Name, v.ConfigMap.Optional)
			if err != nil {
				return nil, err
			}
			if err := writeFiles(dir, data, v.ConfigMap.Items, v.ConfigMap.DefaultMode); err != nil {
				return nil, err
			}
		case v.Secret != nil:
			data, err := a.secretData(ctx, pod.Namespace, v.Secret.SecretName, v.Secret.Optional)
			if err != nil {
				return nil, err
			}
			if err := writeFiles(dir, data, v.Secret.Items, v.Secret.DefaultMode); err != nil {
				return nil, err
			}
		case v.PersistentVolumeClaim != nil:
			path, err := a.claimPath(ctx, pod.Namespace, v.PersistentVolumeClaim.ClaimName)
			if err != nil {
				return nil, err
			}
			dir = path
		case v.Projected != nil:
			// The service account token, the cluster CA and the namespace.
			if err := a.projectedVolume(ctx, pod, v, dir); err != nil {
				return nil, err
			}
		default:
			// Other volume types are not supported yet: an empty directory
			// keeps the containers startable.
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, err
			}
		}
		out[v.Name] = dir
	}
	return out, nil
}

// writeFiles writes keys as files: all keys, or only items (key -> path).
func writeFiles(dir string, data map[string]string, items []core.KeyToPath, mode *int32) error {
	perm := os.FileMode(0o644)
	if mode != nil {
		perm = os.FileMode(*mode)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := map[string]string{}
	if len(items) == 0 {
		for k, v := range data {
			files[k] = v
		}
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			return fmt.Errorf("%w: no key %q for volume item %q", errConfig, it.Key, it.Path)
		}
		files[it.Path] = v
	}
	for p, v := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		// Write then rename: a container reading the file never sees half.
		tmp := full + ".tmp"
		if err := os.WriteFile(tmp, []byte(v), perm); err != nil {
			return err
		}
		if err := os.Rename(tmp, full); err != nil {
			return err
		}
	}
	return nil
}

func (a *Agent) configMapData(ctx context.Context, ns, name string, optional *bool) (map[string]string, error) {
	var cm core.ConfigMap
	if err := a.client.Get(ctx, ns, name, &cm); err != nil {
		if errors.Is(err, apierrors.ErrNotFound) {
			if optional != nil && *optional {
				return nil, nil
			}
			return nil, fmt.Errorf("%w: configmap %q not found", errConfig, name)
		}
		return nil, err
	}
	out := map[string]string{}
	for k, v := range cm.Data {
		out[k] = v
	}
	for k, v := range cm.BinaryData {
		out[k] = string(v)
	}
	return out, nil
}

func (a *Agent) secretData(ctx context.Context, ns, name string, optional *bool) (map[string]string, error) {
	var s core.Secret
	if err := a.client.Get(ctx, ns, name, &s); err != nil {
		if errors.Is(err, apierrors.ErrNotFound) {
			if optional != nil && *optional {
				return nil, nil
			}
			return nil, fmt.Errorf("%w: secret %q not found", errConfig, name)
		}
		return nil, err
	}
	out := map[string]string{}
	for k, v := range s.Data {
		out[k] = string(v)
	}
	return out, nil
}

// claimPath resolves a PersistentVolumeClaim to the node directory of the
// PersistentVolume bound to it (a hostPath volume; minik8s' volume binder
// provisions those), creating it when the volume asks for that. An
// unbound claim is a configuration error the pod waits on.
func (a *Agent) claimPath(ctx context.Context, ns, claim string) (string, error) {
	var pvc core.PersistentVolumeClaim
	if err := a.client.Get(ctx, ns, claim, &pvc); err != nil {
		if errors.Is(err, apierrors.ErrNotFound) {
			return "", fmt.Errorf("%w: persistentvolumeclaim %q not found", errConfig, claim)
		}
		return "", err
	}
	if pvc.Spec.VolumeName == "" {
		return "", fmt.Errorf("%w: persistentvolumeclaim %q is not bound yet", errConfig, claim)
	}
	var pv core.PersistentVolume
	if err := a.client.Get(ctx, "", pvc.Spec.VolumeName, &pv); err != nil {
		return "", err
	}
	if pv.Spec.HostPath == nil {
		return "", fmt.Errorf("%w: persistentvolume %q is not a hostPath volume, the only kind this node mounts", errConfig, pv.Name)
	}
	if t := pv.Spec.HostPath.Type; t != nil && *t == "DirectoryOrCreate" {
		if err := os.MkdirAll(pv.Spec.HostPath.Path, 0o777); err != nil {
			return "", err
		}
	}
	return pv.Spec.HostPath.Path, nil
}
