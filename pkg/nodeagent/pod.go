package nodeagent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"minik8s/pkg/apis/core"
	"minik8s/pkg/client/events"
)

// errConfig marks a container whose configuration cannot be resolved (a
// missing ConfigMap or Secret key): the user must fix the pod or create the
// object (CreateContainerConfigError).
var errConfig = errors.New("container config")

// podDir holds everything of one pod on the node: volumes, hosts and
// resolv.conf, logs.
func podDir(root, uid string) string { return filepath.Join(root, "pods", uid) }

// writePodFiles writes the pod's /etc/hosts and /etc/resolv.conf.
func (a *Agent) writePodFiles(pod *core.Pod, ip string) error {
	dir := podDir(a.cfg.RootDir, pod.UID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	hosts := fmt.Sprintf("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s\t%s\n", ip, hostname(pod))
	for _, h := range pod.Spec.HostAliases {
		hosts += h.IP + "\t" + strings.Join(h.Hostnames, " ") + "\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "hosts"), []byte(hosts), 0o644); err != nil {
		return err
	}
	host, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		host = nil
	}
	resolv := resolvConf(pod, host, a.cfg.ClusterDNS, a.cfg.ClusterDomain)
	return os.WriteFile(filepath.Join(dir, "resolv.conf"), resolv, 0o644)
}

// resolvConf is the pod's /etc/resolv.conf, as the kubelet writes it
// (pkg/kubelet/network/dns): dnsPolicy ClusterFirst (the default) uses the
// cluster DNS with the search list <ns>.svc.<domain> svc.<domain> <domain>
// followed by the node's, and ndots:5; without a cluster DNS configured it
// falls back to Default, the node's own resolv.conf; None starts empty.
// spec.dnsConfig is then merged in: nameservers and searches appended,
// options overriding by name.
func resolvConf(pod *core.Pod, host []byte, clusterDNS, domain string) []byte {
	var servers, searches []string
	var options []core.PodDNSConfigOption
	for _, line := range strings.Split(string(host), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || strings.HasPrefix(f[0], "#") || strings.HasPrefix(f[0], ";") {
			continue
		}
		switch f[0] {
		case "nameserver":
			servers = append(servers, f[1])
		case "search", "domain":
			searches = f[1:]
		case "options":
			for _, o := range f[1:] {
				options = setOption(options, o)
			}
		}
	}
	switch pod.Spec.DNSPolicy {
	case core.DNSNone:
		servers, searches, options = nil, nil, nil
	case core.DNSDefault:
	default: // ClusterFirst, ClusterFirstWithHostNet
		if clusterDNS == "" {
			break
		}
		if domain == "" {
			domain = "cluster.local"
		}
		servers = []string{clusterDNS}
		searches = append([]string{pod.Namespace + ".svc." + domain, "svc." + domain, domain}, searches...)
		options = setOption(options, "ndots:5")
	}
	if c := pod.Spec.DNSConfig; c != nil {
		servers = append(servers, c.Nameservers...)
		searches = append(searches, c.Searches...)
		for _, o := range c.Options {
			opt := o.Name
			if o.Value != nil {
				opt += ":" + *o.Value
			}
			options = setOption(options, opt)
		}
	}
	var b strings.Builder
	for _, s := range servers[:min(len(servers), 3)] { // glibc reads at most 3
		b.WriteString("nameserver " + s + "\n")
	}
	if len(searches) > 0 {
		b.WriteString("search " + strings.Join(searches, " ") + "\n")
	}
	if len(options) > 0 {
		var opts []string
		for _, o := range options {
			if o.Value != nil {
				opts = append(opts, o.Name+":"+*o.Value)
			} else {
				opts = append(opts, o.Name)
			}
		}
		b.WriteString("options " + strings.Join(opts, " ") + "\n")
	}
	return []byte(b.String())
}

// setOption sets the resolver option "name" or "name:value", replacing
// an earlier one of the same name.
func setOption(opts []core.PodDNSConfigOption, s string) []core.PodDNSConfigOption {
	name, value, hasValue := strings.Cut(s, ":")
	o := core.PodDNSConfigOption{Name: name}
	if hasValue {
		o.Value = &value
	}
	for i := range opts {
		if opts[i].Name == name {
			opts[i] = o
			return opts
		}
	}
	return append(opts, o)
}

func hostname(pod *core.Pod) string {
	if pod.Spec.Hostname != "" {
		return pod.Spec.Hostname
	}
	return pod.Name
}

func findContainer(pod *core.Pod, name string) (core.Container, bool) {
	for _, list := range [][]core.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range list {
			if c.Name == name {
				return c, true
			}
		}
	}
	return core.Container{}, false
}

// startContainer pulls the image, resolves env and volumes and starts one
// instance of a container.
func (a *Agent) startContainer(ctx context.Context, pod *core.Pod, ip string, s startAction) error {
	c, ok := findContainer(pod, s.Name)
	if !ok {
		return fmt.Errorf("no container %q in the pod", s.Name)
	}
	image, imageID, err := a.rt.EnsureImage(ctx, c.Image, c.ImagePullPolicy)
	if err != nil {
		return err
	}
	a.pulled(pod.UID, c.Name)
	a.events.Eventf(pod, events.Normal, "Pulled", "Container image %q is present", c.Image)
	env, err := a.containerEnv(ctx, pod, c, ip)
	if err != nil {
		return err
	}
	vols, err := a.prepareVolumes(ctx, pod)
	if err != nil {
		return err
	}
	dir := podDir(a.cfg.RootDir, pod.UID)
	mounts := []mount{
		{Host: filepath.Join(dir, "hosts"), Container: "/etc/hosts"},
		{Host: filepath.Join(dir, "resolv.conf"), Container: "/etc/resolv.conf"},
	}
	for _, vm := range c.VolumeMounts {
		host, ok := vols[vm.Name]
		if !ok {
			return fmt.Errorf("%w: volumeMount %q names no volume of the pod", errConfig, vm.Name)
		}
		if vm.SubPath != "" {
			host = filepath.Join(host, vm.SubPath)
		}
		mounts = append(mounts, mount{Host: host, Container: vm.MountPath, ReadOnly: vm.ReadOnly})
	}
	spec := containerSpec{
		ID: fmt.Sprintf("%s_%s_%d", pod.UID, c.Name, s.Attempt),
		Labels: map[string]string{
			labelPodUID: pod.UID, labelPodNamespace: pod.Namespace, labelPodName: pod.Name,
			labelContainer: c.Name, labelAttempt: strconv.Itoa(s.Attempt), labelInit: strconv.FormatBool(s.Init),
			labelImage: image, labelImageID: imageID,
		},
		Image: image, Command: c.Command, Args: c.Args, Env: env, WorkingDir: c.WorkingDir,
		Hostname: hostname(pod), NetnsPath: a.net.netnsPath(pod.UID), Sandbox: sandboxPaths(a.cfg.RootDir, pod.UID), Mounts: mounts,
		LogPath: logPath(a.cfg.RootDir, pod.UID, c.Name, s.Attempt),
	}
	spec.MemoryLimit, spec.CPUShares, spec.CPUQuota = cgroupLimits(c.Resources)
	// A log left by an instance with the same attempt that never started.
	os.Remove(spec.LogPath)
	if err := a.rt.Start(ctx, spec); err != nil {
		return err
	}
	a.starts.Add(1)
	a.events.Eventf(pod, events.Normal, "Created", "Created container %s", c.Name)
	a.events.Eventf(pod, events.Normal, "Started", "Started container %s", c.Name)
	return nil
}

// cgroupLimits maps requests and limits to cgroup settings as the kubelet
// does: cpu request -> shares (1024 per CPU, at least 2), cpu limit -> CFS
// quota per 100 ms period, memory limit -> memory limit.
func cgroupLimits(r core.ResourceRequirements) (mem int64, shares uint64, quota int64) {
	if q, ok := r.Limits["memory"]; ok {
		mem = q.Value()
	}
	cpuReq, ok := r.Requests["cpu"]
	if !ok {
		cpuReq, ok = r.Limits["cpu"]
	}
	if ok {
		shares = uint64(max(cpuReq.MilliValue()*1024/1000, 2))
	}
	if q, ok := r.Limits["cpu"]; ok {
		quota = max(q.MilliValue()*100000/1000, 1000)
	}
	return mem, shares, quota
}

// containerEnv resolves env and envFrom: values, ConfigMap and Secret keys,
// and the downward API. envFrom comes first so env overrides it, as in
// Kubernetes.
func (a *Agent) containerEnv(ctx context.Context, pod *core.Pod, c core.Container, ip string) ([]string, error) {
	var env []string
	for _, ef := range c.EnvFrom {
		var data map[string]string
		var err error
		switch {
		case ef.ConfigMapRef != nil:
			data, err = a.configMapData(ctx, pod.Namespace, ef.ConfigMapRef.Name, ef.ConfigMapRef.Optional)
		case ef.SecretRef != nil:
			data, err = a.secretData(ctx, pod.Namespace, ef.SecretRef.Name, ef.SecretRef.Optional)
		}
		if err != nil {
			return nil, err
		}
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			env = append(env, ef.Prefix+k+"="+data[k])
		}
	}
	for _, e := range c.Env {
		v, err := a.envValue(ctx, pod, e, ip)
		if err != nil {
			return nil, err
		}
		env = append(env, e.Name+"="+v)
	}
	return env, nil
}

func (a *Agent) envValue(ctx context.Context, pod *core.Pod, e core.EnvVar, ip string) (string, error) {
	src := e.ValueFrom
	if src == nil {
		return e.Value, nil
	}
	switch {
	case src.ConfigMapKeyRef != nil:
		r := src.ConfigMapKeyRef
		data, err := a.configMapData(ctx, pod.Namespace, r.Name, r.Optional)
		return key(data, r.Key, "configmap "+r.Name, r.Optional, err)
	case src.SecretKeyRef != nil:
		r := src.SecretKeyRef
		data, err := a.secretData(ctx, pod.Namespace, r.Name, r.Optional)
		return key(data, r.Key, "secret "+r.Name, r.Optional, err)
	case src.FieldRef != nil:
		return fieldRef(pod, src.FieldRef.FieldPath, ip, a.hostIP)
	}
	return "", nil
}

func key(data map[string]string, k, what string, optional *bool, err error) (string, error) {
	if err != nil {
		return "", err
	}
	v, ok := data[k]
	if !ok && !(optional != nil && *optional) {
		return "", fmt.Errorf("%w: couldn't find key %s in %s", errConfig, k, what)
	}
	return v, nil
}

// fieldRef is the downward API for env.
func fieldRef(pod *core.Pod, path, podIP, hostIP string) (string, error) {
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return pod.UID, nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP":
		return podIP, nil
	case "status.hostIP":
		return hostIP, nil
	}
	for _, p := range []struct {
		prefix string
		m      map[string]string
	}{{"metadata.labels", pod.Labels}, {"metadata.annotations", pod.Annotations}} {
		if rest, ok := strings.CutPrefix(path, p.prefix+"['"); ok {
			return p.m[strings.TrimSuffix(rest, "']")], nil
		}
	}
	return "", fmt.Errorf("%w: unsupported fieldPath %q", errConfig, path)
}
