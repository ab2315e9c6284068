package kubelet

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"

	"rudder/controlplane/kubelet/podenv"
	"rudder/controlplane/kubelet/volumes"
)

// podFiles are the pod's generated files and volume directories.
type podFiles struct {
	resolvConf, hosts string
	hostname          string
	volumes           map[string]volumes.Dir
	// services are the Services that existed when the pod started, for
	// the service environment variables.
	services []*corev1.Service
}

// prepare sets up the pod's volumes and generated files, once; a failure
// (a missing ConfigMap, say) is retried on later syncs.
func (w *podWorker) prepare(ctx context.Context, pod *corev1.Pod) bool {
	if w.prepared {
		return true
	}
	err := w.writeFiles(ctx, pod)
	if err != nil {
		msg := err.Error()
		for _, s := range append(append([]*ctrState{}, w.init...), w.ctrs...) {
			if s.cur == nil {
				s.waitReason, s.waitMessage = "ContainerCreating", msg
			}
		}
		w.k.recorder.Eventf(pod, corev1.EventTypeWarning, "FailedMount", "%s", msg)
		w.wakeAt(w.k.clock.Now().Add(5 * time.Second))
		return false
	}
	w.prepared = true
	return true
}

func (w *podWorker) writeFiles(ctx context.Context, pod *corev1.Pod) error {
	dir := w.podDir()
	if err := os.MkdirAll(filepath.Join(dir, "etc"), 0o755); err != nil {
		return fmt.Errorf("create pod dir: %w", err)
	}
	hostname, _, err := podenv.Hostname(pod, w.k.cfg.ClusterDomain)
	if err != nil {
		return fmt.Errorf("pod hostname: %w", err)
	}
	hostResolv, _ := os.ReadFile(w.k.cfg.ResolvConf)
	resolv, err := podenv.ResolvConf(podenv.DNSInput{Pod: pod, ClusterDNS: w.k.cfg.ClusterDNS,
		ClusterDomain: w.k.cfg.ClusterDomain, HostResolvConf: hostResolv})
	if err != nil {
		return fmt.Errorf("pod resolv.conf: %w", err)
	}
	nodeHosts, _ := os.ReadFile("/etc/hosts")
	hosts := podenv.Hosts(podenv.HostsInput{Pod: pod, PodIPs: w.podIPs, ClusterDomain: w.k.cfg.ClusterDomain, NodeHosts: nodeHosts})
	f := podFiles{resolvConf: filepath.Join(dir, "etc", "resolv.conf"), hosts: filepath.Join(dir, "etc", "hosts"), hostname: hostname}
	if err := os.WriteFile(f.resolvConf, []byte(resolv), 0o644); err != nil {
		return fmt.Errorf("write resolv.conf: %w", err)
	}
	if err := os.WriteFile(f.hosts, []byte(hosts), 0o644); err != nil {
		return fmt.Errorf("write hosts: %w", err)
	}
	f.volumes, err = volumes.Setup(volumes.SetupInput{Context: ctx, PodDir: dir, Pod: pod,
		ConfigMap: w.k.configMap, Secret: w.k.secret, Token: w.k.token, NodeAllocatable: w.k.cfg.Capacity, Logger: w.k.log})
	if err != nil {
		return err
	}
	f.services, _ = w.k.services.List(labels.Everything())
	w.files = f
	return nil
}

func (w *podWorker) teardownFiles() {
	if err := volumes.Teardown(w.podDir()); err != nil {
		w.k.log.Warn("removing pod volumes", "pod", w.key(), "err", err)
	}
}

// containerSpec is the container instance to start: the image's program,
// the environment and the mounts.
func (w *podWorker) containerSpec(pod *corev1.Pod, c *corev1.Container, s *ctrState) (ContainerSpec, error) {
	env, err := podenv.Env(podenv.EnvInput{Pod: pod, Container: c, Services: w.files.services,
		ConfigMap: w.k.configMap, Secret: w.k.secret, HostIPs: w.k.cfg.NodeIPs, PodIPs: w.podIPs,
		NodeAllocatable: w.k.cfg.Capacity})
	if err != nil {
		return ContainerSpec{}, err
	}
	envMap := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		envMap[k] = v
	}
	vm, err := volumes.Mounts(pod, c, w.files.volumes, envMap)
	if err != nil {
		return ContainerSpec{}, err
	}
	mounts := []Mount{{Source: w.files.resolvConf, Target: "/etc/resolv.conf"}, {Source: w.files.hosts, Target: "/etc/hosts"}}
	for _, m := range vm {
		mounts = append(mounts, Mount{Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly})
	}
	if c.TerminationMessagePath != "" {
		mounts = append(mounts, Mount{Source: w.terminationLog(c.Name), Target: c.TerminationMessagePath})
	}
	cmd, args := podenv.ExpandCommand(c.Command, c.Args, env)
	spec := ContainerSpec{PodUID: string(pod.UID), PodNamespace: pod.Namespace, PodName: pod.Name, Name: c.Name,
		RestartCount: s.instances, Image: c.Image, Command: cmd, Args: args, Env: env, WorkingDir: c.WorkingDir, Mounts: mounts}
	if !pod.Spec.HostNetwork {
		spec.Hostname = w.files.hostname
		if w.k.net != nil {
			spec.NetNS = w.k.net.NetNSPath(pod)
		}
	}
	return spec, nil
}

// terminationLog is the host file behind a container's
// terminationMessagePath (created empty).
func (w *podWorker) terminationLog(container string) string {
	p := filepath.Join(w.podDir(), "containers", container, "termination-log")
	_ = os.MkdirAll(filepath.Dir(p), 0o755)
	if f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
		f.Close()
	}
	return p
}

func (k *Kubelet) configMap(ns, name string) (*corev1.ConfigMap, error) {
	return k.client.CoreV1().ConfigMaps(ns).Get(k.ctx, name, metav1.GetOptions{})
}

func (k *Kubelet) secret(ns, name string) (*corev1.Secret, error) {
	return k.client.CoreV1().Secrets(ns).Get(k.ctx, name, metav1.GetOptions{})
}

// token asks the API for a service account token bound to the pod.
func (k *Kubelet) token(ctx context.Context, pod *corev1.Pod, audience string, seconds int64) (string, error) {
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	req := &authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{ExpirationSeconds: ptr.To(seconds),
		BoundObjectRef: &authnv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID}}}
	if audience != "" {
		req.Spec.Audiences = []string{audience}
	}
	out, err := k.client.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa, req, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("request token for service account %s/%s: %w", pod.Namespace, sa, err)
	}
	return out.Status.Token, nil
}
