package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"rudder/controlplane/pki"
)

// stubKubelet speaks the kubelet side of the apiserver's contract for
// pods/log, exec and portforward, over TLS with a certificate from the
// cluster CA, and requires the apiserver's client certificate.
func stubKubelet(t *testing.T, s *server) int {
	t.Helper()
	ca, err := pki.LoadOrCreateCA(filepath.Join(s.dataDir, "tls"), "rudder-ca")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certPath, keyPath, err := ca.LoadOrIssue(dir, "kubelet", pki.Leaf{CommonName: "stub-kubelet", Server: true, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containerLogs/{ns}/{pod}/{container}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "log of %s/%s/%s tail=%s\n", r.PathValue("ns"), r.PathValue("pod"), r.PathValue("container"), r.URL.Query().Get("tailLines"))
	})
	mux.HandleFunc("/exec/{ns}/{pod}/{container}", stubExec)
	mux.HandleFunc("/portForward/{ns}/{pod}", stubPortForward)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.Pool()})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

// stubExec answers a v5.channel.k8s.io websocket: the command on stdout
// (channel 1), then a Success status (channel 3).
func stubExec(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{Subprotocols: []string{"v5.channel.k8s.io", "v4.channel.k8s.io"}}
	c, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	out := fmt.Sprintf("ran %s in %s\n", strings.Join(r.URL.Query()["command"], " "), r.PathValue("container"))
	_ = c.WriteMessage(websocket.BinaryMessage, append([]byte{1}, out...))
	_ = c.WriteMessage(websocket.BinaryMessage, append([]byte{3}, `{"metadata":{},"status":"Success"}`...))
	_ = c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
}

// stubPortForward switches protocols and echoes bytes.
func stubPortForward(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Connection"), "Upgrade") {
		http.Error(w, "upgrade required", http.StatusBadRequest)
		return
	}
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(buf, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: %s\r\n\r\n", r.Header.Get("Upgrade"))
	_ = buf.Flush()
	_, _ = io.Copy(conn, buf)
}

// TestNodeProxy: kubectl logs and exec, and a raw portforward upgrade,
// reach the kubelet of the pod's node through the apiserver.
func TestNodeProxy(t *testing.T) {
	s := startServer(t)
	port := stubKubelet(t, s)
	cs, err := s.clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "stub"}, Status: corev1.NodeStatus{
		Addresses:       []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(port)}},
	}}
	if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default"}, Spec: corev1.PodSpec{
		NodeName: "stub", Containers: []corev1.Container{{Name: "app", Image: "rudder"}, {Name: "side", Image: "rudder"}}}}
	if _, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	k := newKubectl(t, s, "1.33")
	contains(t, "kubectl logs", k.ok("logs", "p", "-c", "side", "--tail=5"), "log of default/p/side tail=5")
	_, err = cs.CoreV1().Pods("default").GetLogs("p", &corev1.PodLogOptions{}).Stream(ctx)
	if err == nil || !strings.Contains(err.Error(), "a container name must be specified for pod p, choose one of: [app side]") {
		t.Fatalf("logs without a container on a two-container pod: %v", err)
	}
	contains(t, "kubectl exec", k.ok("exec", "p", "-c", "app", "--", "echo", "hi"), "ran echo hi in app")
	rawPortForward(t, s)
}

// rawPortForward sends an upgrade to pods/portforward and checks bytes go
// both ways through the apiserver to the stub kubelet.
func rawPortForward(t *testing.T, s *server) {
	cfg, err := clientcmd.BuildConfigFromFlags("", s.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	tlsCfg, err := rest.TLSConfigFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if tlsCfg.RootCAs == nil {
		tlsCfg.RootCAs = x509.NewCertPool()
	}
	tlsCfg.NextProtos = []string{"http/1.1"}
	host := strings.TrimPrefix(cfg.Host, "https://")
	conn, err := tls.Dial("tcp", host, tlsCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/namespaces/default/pods/p/portforward HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nContent-Length: 0\r\n\r\n", host)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("portforward upgrade: %s %s", resp.Status, b)
	}
	_, _ = conn.Write([]byte("ping"))
	got := make([]byte, 4)
	if _, err := io.ReadFull(br, got); err != nil || string(got) != "ping" {
		t.Fatalf("portforward echo: %q %v", got, err)
	}
}
