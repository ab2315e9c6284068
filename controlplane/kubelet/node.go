package kubelet

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	goruntime "runtime"
	"strings"
	"time"

	coordv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// Version is the kubelet version the Node reports.
const Version = "v1.33.0-rudder"

// nodeObject is the Node as this kubelet registers it.
func (k *Kubelet) nodeObject() *corev1.Node {
	labels := map[string]string{
		corev1.LabelHostname: k.cfg.NodeName, corev1.LabelOSStable: goruntime.GOOS, corev1.LabelArchStable: goruntime.GOARCH,
		"beta.kubernetes.io/os": goruntime.GOOS, "beta.kubernetes.io/arch": goruntime.GOARCH,
	}
	for key, v := range k.cfg.NodeLabels {
		labels[key] = v
	}
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: k.cfg.NodeName, Labels: labels}}
	n.Spec.Taints = append(n.Spec.Taints, k.cfg.RegisterTaints...)
	n.Status = k.nodeStatus(nil)
	return n
}

// nodeStatus is the status the kubelet reports, with the Ready condition
// from the runtime and network checks; prev keeps transition times.
func (k *Kubelet) nodeStatus(prev *corev1.Node) corev1.NodeStatus {
	st := corev1.NodeStatus{
		Capacity: k.cfg.Capacity, Allocatable: k.cfg.Capacity,
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(k.cfg.Port)}},
		NodeInfo: corev1.NodeSystemInfo{KubeletVersion: Version, KubeProxyVersion: Version, OperatingSystem: goruntime.GOOS,
			Architecture: goruntime.GOARCH, KernelVersion: kernelVersion(), OSImage: osImage(),
			ContainerRuntimeVersion: "rudder://" + Version, MachineID: machineID(), BootID: bootID()},
	}
	for _, ip := range k.cfg.NodeIPs {
		st.Addresses = append(st.Addresses, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: ip})
	}
	st.Addresses = append(st.Addresses, corev1.NodeAddress{Type: corev1.NodeHostName, Address: k.cfg.NodeName})
	now := metav1.NewTime(k.clock.Now())
	ready, msg := k.readiness()
	conds := []corev1.NodeCondition{
		{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientMemory", Message: "kubelet has sufficient memory available"},
		{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasNoDiskPressure", Message: "kubelet has no disk pressure"},
		{Type: corev1.NodePIDPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientPID", Message: "kubelet has sufficient PID available"},
		{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubelet is posting ready status"},
	}
	if !ready {
		conds[3].Status, conds[3].Reason, conds[3].Message = corev1.ConditionFalse, "KubeletNotReady", msg
	}
	for i := range conds {
		conds[i].LastHeartbeatTime, conds[i].LastTransitionTime = now, now
		if prev == nil {
			continue
		}
		for _, p := range prev.Status.Conditions {
			if p.Type == conds[i].Type && p.Status == conds[i].Status {
				conds[i].LastTransitionTime = p.LastTransitionTime
			}
		}
	}
	st.Conditions = conds
	return st
}

// readiness is NodeReady: the runtime runs and the network plugin answers.
func (k *Kubelet) readiness() (bool, string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.netErr != nil {
		return false, "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:" + k.netErr.Error()
	}
	return true, ""
}

// registerNode creates the Node, or takes over an existing one (a kubelet
// restart or re-registration), refreshing labels and addresses.
func (k *Kubelet) registerNode(ctx context.Context) error {
	nodes := k.client.CoreV1().Nodes()
	want := k.nodeObject()
	_, err := nodes.Create(ctx, want, metav1.CreateOptions{})
	if err == nil {
		k.log.Info("registered node", "node", want.Name)
		return nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("register node %s: %w", want.Name, err)
	}
	cur, err := nodes.Get(ctx, want.Name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("get node %s: %w", want.Name, err)
	}
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"labels": want.Labels}})
	if _, err := nodes.Patch(ctx, cur.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("update node %s labels: %w", want.Name, err)
	}
	k.log.Info("node already registered, took it over", "node", want.Name)
	return k.updateNodeStatus(ctx, true)
}

// updateNodeStatus posts the node status when it changed, or as a
// heartbeat when force is set.
func (k *Kubelet) updateNodeStatus(ctx context.Context, force bool) error {
	nodes := k.client.CoreV1().Nodes()
	cur, err := nodes.Get(ctx, k.cfg.NodeName, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("get node %s: %w", k.cfg.NodeName, err)
	}
	st := k.nodeStatus(cur)
	if !force && sameNodeStatus(cur.Status, st) {
		return nil
	}
	patch, _ := json.Marshal(map[string]any{"status": map[string]any{
		"conditions": st.Conditions, "addresses": st.Addresses, "capacity": st.Capacity,
		"allocatable": st.Allocatable, "daemonEndpoints": st.DaemonEndpoints, "nodeInfo": st.NodeInfo}})
	if _, err := nodes.PatchStatus(ctx, cur.Name, patch); err != nil {
		return fmt.Errorf("update node %s status: %w", cur.Name, err)
	}
	return nil
}

// sameNodeStatus compares what the kubelet owns, ignoring heartbeat times.
func sameNodeStatus(a, b corev1.NodeStatus) bool {
	if len(a.Conditions) != len(b.Conditions) || !equality.Semantic.DeepEqual(a.Addresses, b.Addresses) ||
		!equality.Semantic.DeepEqual(a.Capacity, b.Capacity) || a.DaemonEndpoints != b.DaemonEndpoints {
		return false
	}
	for i := range a.Conditions {
		if a.Conditions[i].Type != b.Conditions[i].Type || a.Conditions[i].Status != b.Conditions[i].Status ||
			a.Conditions[i].Reason != b.Conditions[i].Reason {
			return false
		}
	}
	return true
}

// renewLease creates or renews the node's heartbeat Lease.
func (k *Kubelet) renewLease(ctx context.Context) error {
	leases := k.client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	now := metav1.NewMicroTime(k.clock.Now())
	l, err := leases.Get(ctx, k.cfg.NodeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		l = &coordv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: k.cfg.NodeName, Namespace: corev1.NamespaceNodeLease},
			Spec: coordv1.LeaseSpec{HolderIdentity: ptr.To(k.cfg.NodeName), LeaseDurationSeconds: ptr.To(int32(k.cfg.LeaseDuration / time.Second)), RenewTime: &now}}
		if node, err := k.client.CoreV1().Nodes().Get(ctx, k.cfg.NodeName, metav1.GetOptions{}); err == nil {
			l.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID}}
		}
		_, err = leases.Create(ctx, l, metav1.CreateOptions{})
		return wrapErr("create node lease", err)
	}
	if err != nil {
		return fmt.Errorf("get node lease: %w", err)
	}
	l.Spec.RenewTime = &now
	l.Spec.HolderIdentity = ptr.To(k.cfg.NodeName)
	_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
	return wrapErr("renew node lease", err)
}

func wrapErr(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

// nodeLoop keeps the Lease and the status fresh: the network is checked
// every half second until it is ready (so a new node turns Ready within
// moments of its CNI configuration appearing), then at every renewal.
func (k *Kubelet) nodeLoop(ctx context.Context) {
	var lastLease, lastHeartbeat time.Time
	for {
		k.checkNetwork(ctx)
		now := k.clock.Now()
		if now.Sub(lastLease) >= k.cfg.LeaseDuration/4 {
			if err := k.renewLease(ctx); err != nil {
				k.log.Warn("lease renewal failed", "err", err)
			} else {
				lastLease = now
			}
		}
		force := now.Sub(lastHeartbeat) >= time.Minute
		if err := k.updateNodeStatus(ctx, force); err != nil {
			k.log.Warn("node status update failed", "err", err)
		} else if force {
			lastHeartbeat = now
		}
		wait := min(10*time.Second, k.cfg.LeaseDuration/4)
		if ok, _ := k.readiness(); !ok {
			wait = 500 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return
		case <-k.clock.After(wait):
		}
	}
}

func (k *Kubelet) checkNetwork(ctx context.Context) {
	if k.net == nil {
		return
	}
	err := k.net.Ready(ctx)
	k.mu.Lock()
	changed := (err == nil) != (k.netErr == nil)
	k.netErr = err
	k.mu.Unlock()
	if changed {
		k.log.Info("network readiness changed", "ready", err == nil, "err", err)
	}
}

func kernelVersion() string {
	b, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return strings.TrimSpace(string(b))
}

func osImage() string {
	b, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return goruntime.GOOS
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return goruntime.GOOS
}

func machineID() string {
	b, _ := os.ReadFile("/etc/machine-id")
	return strings.TrimSpace(string(b))
}

func bootID() string {
	b, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return strings.TrimSpace(string(b))
}
