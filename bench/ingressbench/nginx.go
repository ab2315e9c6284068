package ingressbench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"rudder/bench/benchproc"
	"rudder/ingress/proxy"
)

// nginxConf is what the generated nginx.conf needs.
type nginxConf struct {
	// Prefix holds the pid file, the error log and the temp paths.
	Prefix string
	// Workers is worker_processes: the CPUs the proxy gets.
	Workers int
	// Port serves the upstream with keep-alive; NoKeepalivePort (0: off)
	// the same backends without it; HeadersPort (0: off) with keep-alive
	// and an ingress's forwarding headers.
	Port, NoKeepalivePort, HeadersPort int
	// TLSPort (0: off) terminates TLS with CertFile and KeyFile and does
	// the header work of HeadersPort.
	TLSPort           int
	CertFile, KeyFile string
	// Backends are host:port.
	Backends []string
	// Keepalive is the upstream's idle connection cache per worker
	// (nginx's keepalive directive); see nginxKeepalive.
	Keepalive int
	// User is the user directive when running as root ("" leaves it out).
	User string
}

// nginxKeepalive is the idle upstream connections nginx may keep for n
// backends: as many as rudder's pools keep (proxy.MaxIdlePerEndpoint
// each). With fewer than the requests in flight nginx closes the excess
// after every response and opens new ones: at 256 connections and
// keepalive 128 it opened 30,000 upstream connections in 5 s against
// rudder's 257, and lost a quarter of its req/s to that alone.
func nginxKeepalive(n int) int { return proxy.MaxIdlePerEndpoint * max(n, 1) }

// render is nginx.conf for a plain reverse proxy: every request to the
// backends round robin, HTTP/1.1 with a cache of idle upstream
// connections as large as rudder's pools, no access log, and the
// keep-alive request limits (1,000 by default on both sides) raised so that
// neither proxy closes connections the other keeps.
func (c nginxConf) render() string {
	var b strings.Builder
	if c.User != "" {
		fmt.Fprintf(&b, "user %s;\n", c.User)
	}
	fmt.Fprintf(&b, "worker_processes %d;\nworker_rlimit_nofile 65536;\n", c.Workers)
	fmt.Fprintf(&b, "pid %s;\nerror_log %s warn;\n\n", filepath.Join(c.Prefix, "nginx.pid"), filepath.Join(c.Prefix, "error.log"))
	b.WriteString("events {\n    worker_connections 16384;\n}\n\nhttp {\n    access_log off;\n")
	for _, d := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&b, "    %s_temp_path %s;\n", d, filepath.Join(c.Prefix, d+"_temp"))
	}
	b.WriteString("    keepalive_requests 1000000;\n    keepalive_timeout 75s;\n\n")
	upstream := func(name string, keepalive bool) {
		fmt.Fprintf(&b, "    upstream %s {\n", name)
		for _, be := range c.Backends {
			fmt.Fprintf(&b, "        server %s;\n", be)
		}
		if keepalive {
			fmt.Fprintf(&b, "        keepalive %d;\n        keepalive_requests 1000000;\n", c.Keepalive)
		}
		b.WriteString("    }\n\n")
	}
	server := func(port int, up string, headers, tls bool) {
		fmt.Fprintf(&b, "    server {\n        listen 127.0.0.1:%d", port)
		if tls {
			b.WriteString(" ssl;\n")
			b.WriteString(c.tlsDirectives())
		} else {
			b.WriteString(";\n")
		}
		b.WriteString("        location / {\n")
		fmt.Fprintf(&b, "            proxy_pass http://%s;\n", up)
		b.WriteString("            proxy_http_version 1.1;\n")
		b.WriteString("            proxy_set_header Connection \"\";\n")
		b.WriteString("            proxy_set_header Host $host;\n")
		if headers {
			b.WriteString(ingressHeaders)
		}
		b.WriteString("        }\n    }\n\n")
	}
	upstream("backends", true)
	server(c.Port, "backends", false, false)
	if c.NoKeepalivePort != 0 {
		upstream("backends_nokeepalive", false)
		server(c.NoKeepalivePort, "backends_nokeepalive", false, false)
	}
	if c.HeadersPort != 0 {
		server(c.HeadersPort, "backends", true, false)
	}
	if c.TLSPort != 0 {
		server(c.TLSPort, "backends", true, true)
	}
	b.WriteString("}\n")
	return b.String()
}

// tlsDirectives configure the TLS listener as rudder's (Go's) server
// behaves: TLS 1.2 and 1.3, and in 1.3 the server's preference of
// AES-128-GCM first. Left to itself, nginx takes the client's
// preference, and wrk's OpenSSL asks for AES-256-GCM first.
func (c nginxConf) tlsDirectives() string {
	return fmt.Sprintf(`        ssl_certificate %s;
        ssl_certificate_key %s;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_prefer_server_ciphers on;
        ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256;
`, c.CertFile, c.KeyFile)
}

// ingressHeaders are the headers rudder ingress (and ingress-nginx)
// adds, in nginx's words.
const ingressHeaders = `            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $host;
            proxy_set_header X-Forwarded-Port $server_port;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Request-ID $request_id;
            add_header X-Request-ID $request_id always;
`

// findTool is bin when set (it must exist), else the first of the
// candidates that exists or is on PATH.
func findTool(bin string, candidates ...string) (string, error) {
	if bin != "" {
		if _, err := exec.LookPath(bin); err != nil {
			return "", fmt.Errorf("find %s: %w", bin, err)
		}
		return bin, nil
	}
	var lastErr error
	for _, c := range candidates {
		p, err := exec.LookPath(c)
		if err == nil {
			return p, nil
		}
		lastErr = err
	}
	return "", lastErr
}

// nginxProxy is a running nginx.
type nginxProxy struct {
	proc                                        *benchproc.Proc
	port, noKeepalivePort, headersPort, tlsPort int
}

// startNginx writes nginx.conf into dir (a copy into logDir, for the
// record) and runs nginx in the foreground with it, pinned to cpus when set.
func startNginx(ctx context.Context, ps *benchproc.Group, bin, dir, logDir, cpus string, conf nginxConf) (*nginxProxy, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create nginx prefix: %w", err)
	}
	conf.Prefix = dir
	if os.Geteuid() == 0 {
		conf.User = "root"
	}
	path := filepath.Join(dir, "nginx.conf")
	for _, p := range []string{path, filepath.Join(logDir, "nginx.conf")} {
		if err := os.WriteFile(p, []byte(conf.render()), 0o644); err != nil {
			return nil, fmt.Errorf("write nginx.conf: %w", err)
		}
	}
	p, err := ps.Start("nginx", filepath.Join(logDir, "nginx.log"), cpus, nil, bin, "-c", path, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-g", "daemon off;")
	if err != nil {
		return nil, err
	}
	n := &nginxProxy{proc: p, port: conf.Port, noKeepalivePort: conf.NoKeepalivePort, headersPort: conf.HeadersPort, tlsPort: conf.TLSPort}
	url := "http://127.0.0.1:" + strconv.Itoa(conf.Port) + "/healthz"
	if err := p.Poll(ctx, 20*time.Second, func() bool { return httpOK(url, Host) }); err != nil {
		return n, fmt.Errorf("wait for nginx: %w; error log:\n%s", err, benchproc.Tail(filepath.Join(dir, "error.log"), 10))
	}
	return n, nil
}
