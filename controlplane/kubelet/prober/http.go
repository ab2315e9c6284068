package prober

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// maxBody is how much of a response body a probe reads, as upstream.
const maxBody = 10 << 10

// maxRedirects is how many same-host redirects a probe follows.
const maxRedirects = 10

type httpProber struct {
	userAgent string
	transport *http.Transport
}

func newHTTPProber(userAgent string) *httpProber {
	d := &net.Dialer{}
	return &httpProber{
		userAgent: userAgent,
		transport: &http.Transport{
			// Probes check the container, never a proxy, and never keep
			// connections that would outlive the probe.
			Proxy:              nil,
			DisableKeepAlives:  true,
			DisableCompression: true,
			DialContext:        d.DialContext,
			// As upstream: the certificate of a pod is not checked.
			TLSClientConfig:     &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // upstream semantics
			TLSHandshakeTimeout: 10 * time.Second,
		},
	}
}

// sameHostRedirects follows redirects only while they stay on the first
// request's host; a redirect elsewhere ends with the 3xx response.
func sameHostRedirects(req *http.Request, via []*http.Request) error {
	if req.URL.Hostname() != via[0].URL.Hostname() {
		return http.ErrUseLastResponse
	}
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	return nil
}

func (pr *Prober) probeHTTP(ctx context.Context, g *corev1.HTTPGetAction, t Target, timeout time.Duration) (Result, string) {
	req, err := pr.http.newRequest(ctx, g, t)
	if err != nil {
		return Unknown, err.Error()
	}
	client := &http.Client{Timeout: timeout, Transport: pr.http.transport, CheckRedirect: sameHostRedirects}
	res, err := client.Do(req)
	if err != nil {
		return Failure, err.Error()
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		return Failure, fmt.Sprintf("read HTTP probe response body: %v", err)
	}
	switch {
	case res.StatusCode >= http.StatusOK && res.StatusCode < http.StatusMultipleChoices:
		return Success, string(body)
	case res.StatusCode >= http.StatusMultipleChoices && res.StatusCode < http.StatusBadRequest:
		return Warning, fmt.Sprintf("Probe terminated redirects, Response body: %s", body)
	default:
		return Failure, fmt.Sprintf("HTTP probe failed with statuscode: %d", res.StatusCode)
	}
}

// newRequest builds the GET an httpGet probe sends.
func (h *httpProber) newRequest(ctx context.Context, g *corev1.HTTPGetAction, t Target) (*http.Request, error) {
	scheme := strings.ToLower(string(g.Scheme))
	if scheme == "" {
		scheme = "http"
	}
	if scheme != "http" && scheme != "https" {
		return nil, fmt.Errorf("unsupported httpGet scheme %q", g.Scheme)
	}
	addr, err := hostPort(g.Host, t.PodIP, g.Port, t.Container)
	if err != nil {
		return nil, fmt.Errorf("httpGet probe: %w", err)
	}
	u, err := url.Parse(g.Path)
	if err != nil {
		u = &url.URL{Path: g.Path}
	}
	u.Scheme, u.Host = scheme, addr
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("build httpGet probe request for %s: %w", u, err)
	}
	req.Header = h.headers(g.HTTPHeaders)
	if host := req.Header.Get("Host"); host != "" {
		req.Host = host
	}
	return req, nil
}

// headers turns the probe's headers into an http.Header with upstream's
// defaults: the kube-probe User-Agent and "Accept: */*" unless given (an
// Accept given empty is dropped).
func (h *httpProber) headers(in []corev1.HTTPHeader) http.Header {
	hdr := http.Header{}
	for _, x := range in {
		hdr.Add(x.Name, x.Value)
	}
	if _, ok := hdr["User-Agent"]; !ok {
		hdr.Set("User-Agent", h.userAgent)
	}
	if _, ok := hdr["Accept"]; !ok {
		hdr.Set("Accept", "*/*")
	} else if hdr.Get("Accept") == "" {
		hdr.Del("Accept")
	}
	return hdr
}

// isTimeout says whether err is a deadline or net timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
