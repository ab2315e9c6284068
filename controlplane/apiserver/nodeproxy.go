package apiserver

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/proxy"

	"rudder/controlplane/catalog"
)

// KubeletDialer is how the apiserver reaches kubelets for pods/log, exec
// and portforward. The kubelet contract, as upstream's:
//
//	GET  https://<node address>:<kubelet port>/containerLogs/{ns}/{pod}/{container}?follow=&previous=&sinceSeconds=&tailLines=&timestamps=&limitBytes=
//	POST https://…/exec/{ns}/{pod}/{container}?command=…&stdin=&stdout=&stderr=&tty=   (websocket v5.channel.k8s.io, or SPDY)
//	POST https://…/portForward/{ns}/{pod}                                             (SPDY or websocket portforward.k8s.io)
//
// The node address is the Node's InternalIP (else ExternalIP, else
// Hostname) and the port its status.daemonEndpoints.kubeletEndpoint.Port
// (10250 when unset).
type KubeletDialer struct {
	// TLS is the client configuration (client certificate, CA) used
	// towards kubelets; nil means plain HTTP (tests).
	TLS *tls.Config
}

func (d KubeletDialer) scheme() string {
	if d.TLS == nil {
		return "http"
	}
	return "https"
}

func (d KubeletDialer) transport() *http.Transport {
	return &http.Transport{TLSClientConfig: d.TLS, Proxy: nil, ForceAttemptHTTP2: false}
}

var nodeResource, _ = catalog.Lookup(corev1.SchemeGroupVersion.WithResource("nodes"))

// serveNodeProxy forwards pods/log, exec and portforward to the kubelet
// of the pod's node, upgrading the connection when the client asks.
func (s *Server) serveNodeProxy(w http.ResponseWriter, r *http.Request, q *request) error {
	obj, err := s.objects.Get(r.Context(), q.res, q.namespace, q.name)
	if err != nil {
		return storageErr(err, q.gr(), q.name)
	}
	pod := obj.(*corev1.Pod)
	if pod.Spec.NodeName == "" {
		return badRequest("pod %s does not have a host assigned", pod.Name)
	}
	loc, err := s.kubeletLocation(r, q, pod)
	if err != nil {
		return err
	}
	upgrade := q.info.Subresource != "log"
	h := proxy.NewUpgradeAwareHandler(loc, s.cfg.Kubelet.transport(), false, upgrade, proxyResponder{s: s, r: r})
	h.ServeHTTP(w, r)
	return nil
}

// kubeletLocation builds the kubelet URL for the request.
func (s *Server) kubeletLocation(r *http.Request, q *request, pod *corev1.Pod) (*url.URL, error) {
	nodeObj, err := s.objects.Get(r.Context(), nodeResource, "", pod.Spec.NodeName)
	if err != nil {
		return nil, storageErr(err, nodeResource.GroupResource(), pod.Spec.NodeName)
	}
	node := nodeObj.(*corev1.Node)
	host := nodeAddress(node)
	if host == "" {
		return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("node %s has no address", node.Name))
	}
	port := int(node.Status.DaemonEndpoints.KubeletEndpoint.Port)
	if port == 0 {
		port = 10250
	}
	v := r.URL.Query()
	container := v.Get("container")
	if q.info.Subresource != "portforward" && container == "" {
		if len(pod.Spec.Containers) != 1 {
			names := make([]string, 0, len(pod.Spec.Containers))
			for _, c := range pod.Spec.Containers {
				names = append(names, c.Name)
			}
			return nil, badRequest("a container name must be specified for pod %s, choose one of: [%s]", pod.Name, strings.Join(names, " "))
		}
		container = pod.Spec.Containers[0].Name
	}
	v.Del("container")
	loc := &url.URL{Scheme: s.cfg.Kubelet.scheme(), Host: joinHostPort(host, port), RawQuery: v.Encode()}
	switch q.info.Subresource {
	case "log":
		loc.Path = fmt.Sprintf("/containerLogs/%s/%s/%s", pod.Namespace, pod.Name, container)
	case "exec":
		loc.Path = fmt.Sprintf("/exec/%s/%s/%s", pod.Namespace, pod.Name, container)
	case "portforward":
		loc.Path = fmt.Sprintf("/portForward/%s/%s", pod.Namespace, pod.Name)
	}
	return loc, nil
}

func nodeAddress(n *corev1.Node) string {
	for _, t := range []corev1.NodeAddressType{corev1.NodeInternalIP, corev1.NodeExternalIP, corev1.NodeHostName} {
		for _, a := range n.Status.Addresses {
			if a.Type == t {
				return a.Address
			}
		}
	}
	return ""
}

// proxyResponder reports proxy failures as API errors.
type proxyResponder struct {
	s *Server
	r *http.Request
}

func (p proxyResponder) Error(w http.ResponseWriter, req *http.Request, err error) {
	p.s.writeError(w, p.r, apierrors.NewServiceUnavailable("error trying to reach kubelet: "+err.Error()))
}
