package controller

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// statusWriter keeps status.loadBalancer.ingress of the served Ingresses
// equal to the publish addresses, and clears it from Ingresses this
// process served before and serves no more (their class changed), and
// from Ingresses no controller serves when it holds exactly the publish
// addresses: left by this controller before a restart (the Ingress
// moved to a class that does not exist meanwhile). Every
// replica computes the same sorted list, so replicas agree and only the
// first to see a difference writes.
type statusWriter struct {
	client kubernetes.Interface
	log    *slog.Logger
	mine   map[string]bool // ingresses whose status this process set
}

func (w *statusWriter) update(ctx context.Context, ings map[string]*networkingv1.Ingress,
	served, unowned []types.NamespacedName, addrs []string) error {
	want := loadBalancerStatus(addrs)
	var errs []error
	now := make(map[string]bool, len(served))
	for _, nn := range served {
		key := nn.Namespace + "/" + nn.Name
		now[key] = true
		ing := ings[key]
		if ing == nil || equalStatus(ing.Status.LoadBalancer.Ingress, want) {
			w.mine[key] = true
			continue
		}
		if err := w.write(ctx, nn, want); err != nil {
			errs = append(errs, err)
			continue
		}
		w.mine[key] = true
	}
	for key := range w.mine {
		if now[key] {
			continue
		}
		ing := ings[key]
		if ing != nil && equalStatus(ing.Status.LoadBalancer.Ingress, want) {
			nn := types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name}
			if err := w.write(ctx, nn, nil); err != nil {
				errs = append(errs, err)
				continue
			}
			now[key] = true // cleared: not again below
		}
		delete(w.mine, key)
	}
	for _, nn := range unowned {
		ing := ings[nn.Namespace+"/"+nn.Name]
		if ing == nil || now[nn.Namespace+"/"+nn.Name] || len(want) == 0 || !equalStatus(ing.Status.LoadBalancer.Ingress, want) {
			continue
		}
		if err := w.write(ctx, nn, nil); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("update ingress status: %w (and %d more)", errs[0], len(errs)-1)
	}
	return nil
}

// write sets one Ingress's load-balancer status, re-reading it on a
// conflict.
func (w *statusWriter) write(ctx context.Context, nn types.NamespacedName, want []networkingv1.IngressLoadBalancerIngress) error {
	api := w.client.NetworkingV1().Ingresses(nn.Namespace)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		ing, err := api.Get(ctx, nn.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if equalStatus(ing.Status.LoadBalancer.Ingress, want) {
			return nil
		}
		ing.Status.LoadBalancer.Ingress = want
		_, err = api.UpdateStatus(ctx, ing, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("ingress %s: %w", nn, err)
	}
	w.log.Info("ingress status updated", "ingress", nn.String(), "addresses", len(want))
	return nil
}

func loadBalancerStatus(addrs []string) []networkingv1.IngressLoadBalancerIngress {
	if len(addrs) == 0 {
		return nil
	}
	out := make([]networkingv1.IngressLoadBalancerIngress, 0, len(addrs))
	for _, a := range addrs {
		if _, err := netip.ParseAddr(a); err == nil {
			out = append(out, networkingv1.IngressLoadBalancerIngress{IP: a})
		} else {
			out = append(out, networkingv1.IngressLoadBalancerIngress{Hostname: a})
		}
	}
	return out
}

func equalStatus(a, b []networkingv1.IngressLoadBalancerIngress) bool {
	return slices.EqualFunc(a, b, func(x, y networkingv1.IngressLoadBalancerIngress) bool {
		return x.IP == y.IP && x.Hostname == y.Hostname && len(x.Ports) == 0 && len(y.Ports) == 0
	})
}

// nodeAddresses are the InternalIP of every Node (its ExternalIP when it
// has no InternalIP), sorted: a DaemonSet on every node serves on them.
func nodeAddresses(nodes []*corev1.Node) []string {
	var out []string
	for _, n := range nodes {
		if a := nodeAddress(n, corev1.NodeInternalIP); a != "" {
			out = append(out, a)
		} else if a := nodeAddress(n, corev1.NodeExternalIP); a != "" {
			out = append(out, a)
		}
	}
	return sortedUnique(out)
}

func nodeAddress(n *corev1.Node, t corev1.NodeAddressType) string {
	for _, a := range n.Status.Addresses {
		if a.Type == t {
			return a.Address
		}
	}
	return ""
}

func sortedUnique(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}
