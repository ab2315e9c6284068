package report

import (
	"bytes"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Charts writes the SVG charts r has data for into dir and returns
// the files written: ThroughputChart (stream bars with min–max and the
// raw veth limit), LatencyChart (CRR p50 and p99 bars) and ScalingChart
// (CRR p50 versus service count per backend). The SVGs carry no
// timestamps, so the same results give the same bytes.
func Charts(dir string, r *Results) ([]string, error) {
	if r == nil {
		return nil, fmt.Errorf("writing charts to %s: nil results", dir)
	}
	charts := []struct {
		name string
		has  func(*Results) bool
		draw func(*Results) (*plot.Plot, vg.Length, vg.Length, error)
	}{
		{ThroughputChart, hasThroughput, throughputPlot},
		{LatencyChart, hasLatency, latencyPlot},
		{ScalingChart, hasScaling, scalingPlot},
	}
	var written []string
	for _, c := range charts {
		if !c.has(r) {
			continue
		}
		b, err := renderSVG(r, c.draw)
		if err != nil {
			return written, fmt.Errorf("drawing %s: %w", c.name, err)
		}
		file := filepath.Join(dir, c.name)
		if err := os.WriteFile(file, b, 0o644); err != nil {
			return written, fmt.Errorf("writing chart: %w", err)
		}
		written = append(written, file)
	}
	return written, nil
}

// renderSVG draws one chart into SVG bytes. gonum/plot panics on some
// degenerate inputs; that becomes an error here rather than a crash of
// a whole benchmark run.
func renderSVG(r *Results, draw func(*Results) (*plot.Plot, vg.Length, vg.Length, error)) (out []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("plot: %v", p)
		}
	}()
	p, w, h, err := draw(r)
	if err != nil {
		return nil, err
	}
	wt, err := p.WriterTo(w, h, "svg")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func hasThroughput(r *Results) bool {
	return slices.ContainsFunc(r.Paths, func(p Path) bool { return len(p.Stream) > 0 })
}

func hasLatency(r *Results) bool {
	return slices.ContainsFunc(r.Paths, func(p Path) bool { return len(p.CRR.P50) > 0 || len(p.CRR.P99) > 0 })
}

func hasScaling(r *Results) bool {
	return slices.ContainsFunc(r.Scaling, func(s Scale) bool { return s.Services > 0 && len(s.CRRP50) > 0 })
}

// errPoints are points with asymmetric error bars, as gonum wants them.
type errPoints struct {
	plotter.XYs
	plotter.XErrors
	plotter.YErrors
}

// barHeight is the chart height for n horizontal bars (or bar groups).
func barHeight(n int) vg.Length {
	return max(3*vg.Inch, vg.Length(n)*0.45*vg.Inch+1.5*vg.Inch)
}

// throughputPlot: one horizontal bar per path with stream samples,
// first path on top, min–max whiskers, and the raw veth median marked.
func throughputPlot(r *Results) (*plot.Plot, vg.Length, vg.Length, error) {
	var paths []*Path
	for _, p := range orderedPaths(r) {
		if len(p.Stream) > 0 {
			paths = append(paths, p)
		}
	}
	slices.Reverse(paths) // gonum puts index 0 at the bottom
	n := len(paths)
	vals := make(plotter.Values, n)
	pts := errPoints{XYs: make(plotter.XYs, n), XErrors: make(plotter.XErrors, n), YErrors: make(plotter.YErrors, n)}
	names := make([]string, n)
	for i, p := range paths {
		m := p.Stream.Median()
		vals[i] = m
		pts.XYs[i] = plotter.XY{X: m, Y: float64(i)}
		pts.XErrors[i] = struct{ Low, High float64 }{m - p.Stream.Min(), p.Stream.Max() - m}
		names[i] = pathName(p)
	}
	p := plot.New()
	p.Title.Text = "TCP stream throughput (median, min–max)"
	p.X.Label.Text = "Gbit/s"
	p.X.Min = 0
	bars, err := plotter.NewBarChart(vals, 0.3*vg.Inch)
	if err != nil {
		return nil, 0, 0, err
	}
	bars.Horizontal = true
	bars.Color = color.RGBA{R: 0x4c, G: 0x72, B: 0xb0, A: 0xff}
	bars.LineStyle.Width = 0
	whiskers, err := plotter.NewXErrorBars(pts)
	if err != nil {
		return nil, 0, 0, err
	}
	p.Add(plotter.NewGrid(), bars, whiskers)
	if raw := r.Path(RawVethID); raw != nil && len(raw.Stream) > 0 {
		m := raw.Stream.Median()
		line, err := plotter.NewLine(plotter.XYs{{X: m, Y: -0.5}, {X: m, Y: float64(n) - 0.5}})
		if err != nil {
			return nil, 0, 0, err
		}
		line.Color = color.RGBA{R: 0xc4, A: 0xff}
		line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		line.Width = vg.Points(1.5)
		p.Add(line)
		p.Legend.Add(fmt.Sprintf("raw veth limit %.2f Gbit/s", m), line)
	}
	// Room on the right so the legend (bottom right) and the longest
	// whisker do not collide.
	top := 0.0
	for _, p := range paths {
		top = max(top, p.Stream.Max())
	}
	p.X.Max = top * 1.25
	p.NominalY(names...)
	return p, 8 * vg.Inch, barHeight(n), nil
}

// latencyPlot: CRR p50 and p99 bars per path, first path on top.
func latencyPlot(r *Results) (*plot.Plot, vg.Length, vg.Length, error) {
	var paths []*Path
	for _, p := range orderedPaths(r) {
		if len(p.CRR.P50) > 0 || len(p.CRR.P99) > 0 {
			paths = append(paths, p)
		}
	}
	slices.Reverse(paths)
	n := len(paths)
	p50, p99 := make(plotter.Values, n), make(plotter.Values, n)
	names := make([]string, n)
	for i, p := range paths {
		p50[i], p99[i] = p.CRR.P50.Median(), p.CRR.P99.Median()
		names[i] = pathName(p)
	}
	p := plot.New()
	p.Title.Text = "CRR latency (median across runs)"
	p.X.Label.Text = "µs"
	p.X.Min = 0
	w := 0.16 * vg.Inch
	for i, s := range []struct {
		name string
		v    plotter.Values
		c    color.Color
	}{
		{"p50", p50, color.RGBA{R: 0x4c, G: 0x72, B: 0xb0, A: 0xff}},
		{"p99", p99, color.RGBA{R: 0xdd, G: 0x84, B: 0x52, A: 0xff}},
	} {
		bars, err := plotter.NewBarChart(s.v, w)
		if err != nil {
			return nil, 0, 0, err
		}
		bars.Horizontal = true
		bars.Color = s.c
		bars.LineStyle.Width = 0
		// p50 above p99 within each path.
		bars.Offset = w/2 - vg.Length(i)*w
		p.Add(bars)
		p.Legend.Add(s.name, bars)
	}
	p.Add(plotter.NewGrid())
	p.X.Max = max(slices.Max(p50), slices.Max(p99)) * 1.2
	p.NominalY(names...)
	return p, 8 * vg.Inch, barHeight(n), nil
}

// scalingPlot: CRR p50 versus service count on a log axis, one line
// per backend, min–max whiskers on every point.
func scalingPlot(r *Results) (*plot.Plot, vg.Length, vg.Length, error) {
	p := plot.New()
	p.Title.Text = "CRR p50 versus services loaded"
	p.X.Label.Text = "services"
	p.Y.Label.Text = "CRR p50 (µs)"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Y.Min = 0
	p.Add(plotter.NewGrid())
	lo, hi := 0, 0
	for i, be := range backends(r) {
		var pts errPoints
		for _, s := range scalesOf(r, be) {
			if s.Services <= 0 || len(s.CRRP50) == 0 {
				continue
			}
			m := s.CRRP50.Median()
			pts.XYs = append(pts.XYs, plotter.XY{X: float64(s.Services), Y: m})
			pts.YErrors = append(pts.YErrors, struct{ Low, High float64 }{m - s.CRRP50.Min(), s.CRRP50.Max() - m})
			if lo == 0 || s.Services < lo {
				lo = s.Services
			}
			hi = max(hi, s.Services)
		}
		if len(pts.XYs) == 0 {
			continue
		}
		line, marks, err := plotter.NewLinePoints(pts.XYs)
		if err != nil {
			return nil, 0, 0, err
		}
		line.Color = plotutil.Color(i)
		marks.Color = plotutil.Color(i)
		marks.Shape = plotutil.Shape(i)
		whiskers, err := plotter.NewYErrorBars(pts)
		if err != nil {
			return nil, 0, 0, err
		}
		whiskers.Color = plotutil.Color(i)
		p.Add(line, marks, whiskers)
		p.Legend.Add(be, line, marks)
	}
	// Explicit x range: gonum would pad a single count to [n-1, n+1],
	// which is not positive for n = 1 and breaks the log scale.
	p.X.Min, p.X.Max = float64(lo)/1.5, float64(hi)*1.5
	p.Legend.Top = true
	p.Legend.Left = true
	return p, 7 * vg.Inch, 4.5 * vg.Inch, nil
}
