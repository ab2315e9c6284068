package netexec

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxTries bounds the tries parameter of /dial.
const maxTries = 100

// DialResult is the JSON answer of /dial.
type DialResult struct {
	Responses []string `json:"responses"`
	Errors    []string `json:"errors"`
}

// dialRequest is a parsed /dial query.
type dialRequest struct {
	hostPort, request, protocol string
	tries                       int
}

func parseDial(r *http.Request) (dialRequest, error) {
	q := r.URL.Query()
	d := dialRequest{request: q.Get("request"), protocol: q.Get("protocol"), tries: 1}
	host, port := q.Get("host"), q.Get("port")
	if host == "" || port == "" {
		return d, fmt.Errorf("host and port are required")
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return d, fmt.Errorf("bad port %q", port)
	}
	d.hostPort = net.JoinHostPort(host, port)
	if d.protocol == "" {
		d.protocol = "http"
	}
	if d.protocol != "http" && d.protocol != "udp" && d.protocol != "tcp" {
		return d, fmt.Errorf("bad protocol %q: want http, udp or tcp", d.protocol)
	}
	if d.request == "" {
		d.request = "hostname"
	}
	if t := q.Get("tries"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 || n > maxTries {
			return d, fmt.Errorf("bad tries %q: want 1-%d", t, maxTries)
		}
		d.tries = n
	}
	return d, nil
}

// handleDial sends the request to host:port tries times, each on a new
// connection, and reports every answer and error.
func (s *Server) handleDial(w http.ResponseWriter, r *http.Request) {
	d, err := parseDial(r)
	if err != nil {
		writeText(w, http.StatusBadRequest, "dial: "+err.Error())
		return
	}
	res := DialResult{Responses: []string{}, Errors: []string{}}
	for range d.tries {
		out, err := s.dialOnce(r.Context(), d)
		if err != nil {
			res.Errors = append(res.Errors, err.Error())
			continue
		}
		res.Responses = append(res.Responses, out)
	}
	body, err := json.Marshal(res)
	if err != nil {
		writeText(w, http.StatusInternalServerError, "dial: encode the result: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

func (s *Server) dialOnce(ctx context.Context, d dialRequest) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.DialTimeout)
	defer cancel()
	switch d.protocol {
	case "udp":
		return dialPacket(ctx, d)
	case "tcp":
		return dialStream(ctx, d)
	}
	return dialHTTP(ctx, d)
}

func dialHTTP(ctx context.Context, d dialRequest) (string, error) {
	url := "http://" + d.hostPort + "/" + strings.TrimPrefix(d.request, "/")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", fmt.Errorf("build request %s: %w", url, err)
	}
	// A fresh transport per try: every try opens its own connection.
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return "", fmt.Errorf("get %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("read the answer of %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("get %s: status %d: %s", url, resp.StatusCode, body)
	}
	return string(body), nil
}

func dialPacket(ctx context.Context, d dialRequest) (string, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, "udp", d.hostPort)
	if err != nil {
		return "", fmt.Errorf("dial udp %s: %w", d.hostPort, err)
	}
	defer c.Close()
	setDeadline(ctx, c)
	if _, err := c.Write([]byte(d.request)); err != nil {
		return "", fmt.Errorf("send to udp %s: %w", d.hostPort, err)
	}
	buf := make([]byte, 64<<10)
	n, err := c.Read(buf)
	if err != nil {
		return "", fmt.Errorf("read from udp %s: %w", d.hostPort, err)
	}
	return string(buf[:n]), nil
}

func dialStream(ctx context.Context, d dialRequest) (string, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", d.hostPort)
	if err != nil {
		return "", fmt.Errorf("dial tcp %s: %w", d.hostPort, err)
	}
	defer c.Close()
	setDeadline(ctx, c)
	if _, err := c.Write([]byte(d.request + "\n")); err != nil {
		return "", fmt.Errorf("send to tcp %s: %w", d.hostPort, err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("read from tcp %s: %w", d.hostPort, err)
	}
	return strings.TrimSuffix(line, "\n"), nil
}

func setDeadline(ctx context.Context, c net.Conn) {
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	} else {
		_ = c.SetDeadline(time.Now().Add(DefaultDialTimeout))
	}
}
