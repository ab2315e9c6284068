package harness

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/containernetworking/plugins/pkg/ns"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"rudder/bench/report"
)

// scaling loads the lab with more and more services and measures, at
// each count, the proxy's sync after one change and CRR p50 through the
// ClusterIP of the newest service.
func (b *bench) scaling(ctx context.Context, env *labEnv, backend string) {
	created := 0
	var last *corev1.Service
	for _, n := range b.cfg.Services {
		b.prog.Step("%s scaling: creating services %d→%d", backend, created, n)
		svcs, err := env.createServices(ctx, created, n)
		if err != nil {
			b.skip(fmt.Sprintf("%s at %d services", backend, n), err)
			return
		}
		created = n
		if len(svcs) > 0 {
			last = svcs[len(svcs)-1]
		}
		b.prog.Step("%s scaling: waiting for the proxy to program %d services", backend, n)
		if err := env.waitProgrammed(ctx, n); err != nil {
			b.skip(fmt.Sprintf("%s at %d services", backend, n), err)
			return
		}
		target := net.JoinHostPort(last.Spec.ClusterIP, "7007")
		if err := env.waitAnswers(ctx, target); err != nil {
			b.skip(fmt.Sprintf("%s at %d services", backend, n), err)
			return
		}
		if err := env.flushConntrack(); err != nil {
			b.prog.Logf("flush conntrack: %v", err)
		}
		pt := report.Scale{Backend: backend, Services: n}
		for run := 1; run <= b.cfg.Runs; run++ {
			b.prog.Step("%s scaling at %d services: run %d/%d", backend, n, run, b.cfg.Runs)
			sync, err := env.syncAfterChange(ctx, fmt.Sprintf("chg-%d-%d", n, run))
			if err != nil {
				b.skip(fmt.Sprintf("%s at %d services", backend, n), err)
				return
			}
			r, err := b.latency(ctx, env.local, target, "crr", b.cfg.Latency)
			if err != nil {
				b.skip(fmt.Sprintf("%s at %d services", backend, n), err)
				return
			}
			pt.SyncSeconds, pt.CRRP50 = append(pt.SyncSeconds, sync), append(pt.CRRP50, r.P50)
		}
		b.res.Scaling = append(b.res.Scaling, pt)
		b.prog.Logf("%-10s %6d services: sync after a change %6.1f ms, CRR p50 %5.0f µs", backend, n,
			pt.SyncSeconds.Median()*1000, pt.CRRP50.Median())
	}
}

// createServices creates ClusterIP services svc-<from>…svc-<to-1> in
// front of the server pod, 16 at a time.
func (env *labEnv) createServices(ctx context.Context, from, to int) ([]*corev1.Service, error) {
	out := make([]*corev1.Service, to-from)
	errs := make(chan error, 16)
	var wg sync.WaitGroup
	next := make(chan int)
	for range 16 {
		wg.Go(func() {
			for i := range next {
				s := serviceFor(fmt.Sprintf("svc-%05d", i), corev1.ServiceTypeClusterIP)
				s.Spec.Ports = s.Spec.Ports[1:] // the echo port only
				got, err := env.cs.CoreV1().Services(benchNS).Create(ctx, s, metav1.CreateOptions{})
				if err != nil {
					select {
					case errs <- fmt.Errorf("create service %s: %w", s.Name, err):
					default:
					}
					continue
				}
				out[i-from] = got
			}
		})
	}
	for i := from; i < to; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return nil, err
	default:
	}
	return out, nil
}

// proxyStats are the service proxy's metrics on node-1.
type proxyStats struct {
	servicePorts float64
	syncCount    uint64
	syncSum      float64
}

func (env *labEnv) proxyStats() (proxyStats, error) {
	body, err := env.nodeGet("http://127.0.0.1:10249/metrics")
	if err != nil {
		return proxyStats{}, err
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		return proxyStats{}, fmt.Errorf("parse agent metrics: %w", err)
	}
	var st proxyStats
	if f := fams["rudder_proxy_service_ports"]; f != nil && len(f.Metric) > 0 {
		st.servicePorts = gaugeValue(f.Metric[0])
	}
	if f := fams["rudder_proxy_sync_duration_seconds"]; f != nil && len(f.Metric) > 0 && f.Metric[0].Histogram != nil {
		st.syncCount, st.syncSum = f.Metric[0].Histogram.GetSampleCount(), f.Metric[0].Histogram.GetSampleSum()
	}
	return st, nil
}

func gaugeValue(m *dto.Metric) float64 {
	if m.Gauge != nil {
		return m.Gauge.GetValue()
	}
	return 0
}

// waitProgrammed waits until node-1's proxy holds at least n services
// (plus the bench service and the kubernetes one) and is idle.
func (env *labEnv) waitProgrammed(ctx context.Context, n int) error {
	return wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 5*time.Minute, true, func(context.Context) (bool, error) {
		st, err := env.proxyStats()
		return err == nil && st.servicePorts >= float64(n+2), nil
	})
}

// syncAfterChange adds one service and returns the duration of the
// proxy sync(s) that programmed it.
func (env *labEnv) syncAfterChange(ctx context.Context, name string) (float64, error) {
	before, err := env.proxyStats()
	if err != nil {
		return 0, err
	}
	s := serviceFor(name, corev1.ServiceTypeClusterIP)
	s.Spec.Ports = s.Spec.Ports[1:]
	if _, err := env.cs.CoreV1().Services(benchNS).Create(ctx, s, metav1.CreateOptions{}); err != nil {
		return 0, fmt.Errorf("create service %s: %w", name, err)
	}
	var after proxyStats
	err = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		after, err = env.proxyStats()
		return err == nil && after.servicePorts > before.servicePorts && after.syncCount > before.syncCount, nil
	})
	if err != nil {
		return 0, fmt.Errorf("proxy did not program %s: %w", name, err)
	}
	return (after.syncSum - before.syncSum) / float64(after.syncCount-before.syncCount), nil
}

// nodeGet fetches url from inside node-1's network namespace.
func (env *labEnv) nodeGet(url string) (string, error) {
	tr := &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := ns.WithNetNSPath(env.node1.NetNSPath, func(ns.NetNS) error {
			var err error
			c, err = (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}
