package kubelet

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	"rudder/controlplane/kubelet/prober"
)

// terminate stops every running container of the pod within grace:
// preStop hooks first, then SIGTERM, then SIGKILL when grace runs out.
func (w *podWorker) terminate(ctx context.Context, grace time.Duration) {
	deadline := w.k.clock.Now().Add(grace)
	var wg sync.WaitGroup
	stop := func(s *ctrState, c *corev1.Container) {
		defer wg.Done()
		if c != nil && c.Lifecycle != nil && c.Lifecycle.PreStop != nil && grace > 0 {
			hctx, cancel := context.WithTimeout(ctx, grace)
			if err := w.runHook(hctx, w.pod, c, s, c.Lifecycle.PreStop, grace); err != nil {
				w.k.log.Info("preStop hook failed", "pod", w.key(), "container", c.Name, "err", err)
			}
			cancel()
		}
		left := max(deadline.Sub(w.k.clock.Now()), 0)
		if err := w.k.rt.Stop(s.cur, left); err != nil {
			w.k.log.Warn("stopping container", "pod", w.key(), "container", s.name, "err", err)
		}
	}
	all := append(append([]*ctrState{}, w.init...), w.ctrs...)
	for _, s := range all {
		if !s.running() {
			continue
		}
		s.stopping, s.ready = true, false
		if w.pod != nil {
			w.k.recorder.Eventf(w.pod, corev1.EventTypeNormal, "Killing", "Stopping container %s", s.name)
		}
		wg.Add(1)
		go stop(s, w.spec(s))
	}
	wg.Wait()
}

// spec is a container's spec in the current pod, nil when unknown.
func (w *podWorker) spec(s *ctrState) *corev1.Container {
	if w.pod == nil {
		return nil
	}
	list := w.pod.Spec.Containers
	if s.init {
		list = w.pod.Spec.InitContainers
	}
	for i := range list {
		if list[i].Name == s.name {
			return &list[i]
		}
	}
	return nil
}

// runHook runs a postStart or preStop handler: exec in the container,
// an HTTP GET to the pod, or a sleep.
func (w *podWorker) runHook(ctx context.Context, pod *corev1.Pod, c *corev1.Container, s *ctrState, h *corev1.LifecycleHandler, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	switch {
	case h.Exec != nil:
		var out limitedBuffer
		code, err := w.k.rt.Exec(ctx, s.cur, h.Exec.Command, ExecStreams{Stdout: &out, Stderr: &out})
		if err != nil {
			return fmt.Errorf("exec %v: %w", h.Exec.Command, err)
		}
		if code != 0 {
			return fmt.Errorf("exec %v: exit code %d: %s", h.Exec.Command, code, out.String())
		}
	case h.HTTPGet != nil:
		return w.hookHTTP(ctx, pod, c, h.HTTPGet)
	case h.Sleep != nil:
		select {
		case <-ctx.Done():
		case <-w.k.clock.After(time.Duration(h.Sleep.Seconds) * time.Second):
		}
	}
	return nil
}

func (w *podWorker) hookHTTP(ctx context.Context, pod *corev1.Pod, c *corev1.Container, g *corev1.HTTPGetAction) error {
	host := g.Host
	if host == "" && len(w.podIPs) > 0 {
		host = w.podIPs[0]
	}
	port, err := prober.ResolvePort(g.Port, c)
	if err != nil {
		return err
	}
	scheme := "http"
	if g.Scheme == corev1.URISchemeHTTPS {
		scheme = "https"
	}
	url := scheme + "://" + net.JoinHostPort(host, strconv.Itoa(port)) + g.Path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("hook request: %w", err)
	}
	for _, hd := range g.HTTPHeaders {
		req.Header.Add(hd.Name, hd.Value)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("hook GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 10<<10))
	if resp.StatusCode >= 400 {
		return fmt.Errorf("hook GET %s: %s", url, resp.Status)
	}
	return nil
}

// limitedBuffer keeps the first 10 KiB written to it.
type limitedBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := 10<<10 - len(b.buf); room > 0 {
		b.buf = append(b.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
