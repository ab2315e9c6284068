package report

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

// dash stands for a number that was not measured.
const dash = "—"

// RawVethID is the path every throughput and latency ratio is against.
const RawVethID = "raw-veth"

// groupOrder is the order groups are shown in, with their headings.
var groupOrder = []struct{ id, title string }{
	{"baseline", "baselines"},
	{"pod", "pod paths"},
	{"service", "service paths"},
	{"nodeport", "NodePort"},
}

// group is a run of paths shown under one heading.
type group struct {
	title string
	paths []*Path
}

// groups orders r's paths by group (known groups first, then unknown
// ones in order of appearance), keeping input order within a group.
func groups(r *Results) []group {
	var out []group
	seen := map[string]bool{}
	add := func(id, title string) {
		seen[id] = true
		var g group
		g.title = title
		for i := range r.Paths {
			if r.Paths[i].Group == id {
				g.paths = append(g.paths, &r.Paths[i])
			}
		}
		if len(g.paths) > 0 {
			out = append(out, g)
		}
	}
	for _, g := range groupOrder {
		add(g.id, g.title)
	}
	for i := range r.Paths {
		if id := r.Paths[i].Group; !seen[id] {
			title := id
			if title == "" {
				title = "other"
			}
			add(id, title)
		}
	}
	return out
}

// orderedPaths is groups flattened.
func orderedPaths(r *Results) []*Path {
	var out []*Path
	for _, g := range groups(r) {
		out = append(out, g.paths...)
	}
	return out
}

// num formats v with dec decimals, or a dash for NaN/Inf.
func num(v float64, dec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return dash
	}
	if dec == 0 {
		return groupDigits(strconv.FormatFloat(math.Round(v), 'f', 0, 64))
	}
	return strconv.FormatFloat(v, 'f', dec, 64)
}

// Thousands formats n with thousands separators (1,234,567).
func Thousands(n int) string { return groupDigits(strconv.Itoa(n)) }

// groupDigits puts thousands separators into an integer string.
func groupDigits(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// median formats the median of s scaled by k, or a dash when empty.
func median(s Samples, k float64, dec int) string {
	if len(s) == 0 {
		return dash
	}
	return num(s.Median()*k, dec)
}

// spread formats "median (min–max)" of s scaled by k; one sample is
// shown alone, none as a dash.
func spread(s Samples, k float64, dec int) string {
	switch len(s) {
	case 0:
		return dash
	case 1:
		return num(s[0]*k, dec)
	}
	return num(s.Median()*k, dec) + " (" + num(s.Min()*k, dec) + "–" + num(s.Max()*k, dec) + ")"
}

// ratio is the ratio of the medians of a and b, ok false when either
// is empty or b's median is zero.
func ratio(a, b Samples) (float64, bool) {
	if len(a) == 0 || len(b) == 0 {
		return 0, false
	}
	d := b.Median()
	if d == 0 {
		return 0, false
	}
	return a.Median() / d, true
}

// ratioCell formats ratio(a, b) with 2 decimals, or a dash.
func ratioCell(a, b Samples) string {
	v, ok := ratio(a, b)
	if !ok {
		return dash
	}
	return num(v, 2)
}

// cell makes s safe inside a Markdown table cell.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.ReplaceAll(s, "|", `\|`)
	if s == "" {
		return dash
	}
	return s
}

// pathName is what people see for p: its Name, else its ID.
func pathName(p *Path) string {
	if p.Name != "" {
		return p.Name
	}
	return p.ID
}

// backends lists the scaling backends in order of first appearance.
func backends(r *Results) []string {
	var out []string
	for _, s := range r.Scaling {
		if !slices.Contains(out, s.Backend) {
			out = append(out, s.Backend)
		}
	}
	return out
}

// scalesOf returns backend's scaling points sorted by service count.
func scalesOf(r *Results, backend string) []Scale {
	var out []Scale
	for _, s := range r.Scaling {
		if s.Backend == backend {
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b Scale) int { return a.Services - b.Services })
	return out
}
