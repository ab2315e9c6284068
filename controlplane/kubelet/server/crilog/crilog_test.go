package crilog

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

const sample = `2026-11-26T15:00:00.000000001Z stdout F one
2026-11-26T15:00:01Z stderr P tw
2026-11-26T15:00:01.5Z stderr P o
2026-11-26T15:00:02Z stderr F  and a half
2026-11-26T15:00:03Z stdout F
2026-11-26T15:00:04Z stdout F four with  spaces
`

// render reads all lines of in and writes them as the kubelet would.
func render(t *testing.T, in string, tail int, opts Options) string {
	t.Helper()
	r := NewReader(strings.NewReader(in), 0)
	var out bytes.Buffer
	w := NewWriter(&out, opts)
	var lines []Line
	for {
		l, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, ErrMalformed) {
			continue
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		lines = append(lines, l)
	}
	if l, ok := r.Flush(); ok {
		lines = append(lines, l)
	}
	if tail >= 0 {
		tl := NewTail(tail)
		for _, l := range lines {
			tl.Add(l)
		}
		lines = tl.Lines()
	}
	for _, l := range lines {
		if err := w.Write(l); err != nil {
			if errors.Is(err, ErrLimitReached) {
				break
			}
			t.Fatalf("Write: %v", err)
		}
	}
	return out.String()
}

func TestRender(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name string
		in   string
		tail int
		opts Options
		want string
	}{
		{name: "all", in: sample, tail: -1, want: "one\ntwo and a half\n\nfour with  spaces\n"},
		{name: "timestamps", in: sample, tail: -1, opts: Options{Timestamps: true},
			want: "2026-11-26T15:00:00.000000001Z one\n2026-11-26T15:00:01Z two and a half\n2026-11-26T15:00:03Z \n2026-11-26T15:00:04Z four with  spaces\n"},
		{name: "tail 2", in: sample, tail: 2, want: "\nfour with  spaces\n"},
		{name: "tail 0", in: sample, tail: 0, want: ""},
		{name: "tail more than lines", in: sample, tail: 10, want: "one\ntwo and a half\n\nfour with  spaces\n"},
		{name: "since", in: sample, tail: -1, opts: Options{Since: at("2026-11-26T15:00:01Z")}, want: "two and a half\n\nfour with  spaces\n"},
		{name: "since after tail", in: sample, tail: 3, opts: Options{Since: at("2026-11-26T15:00:03Z")}, want: "\nfour with  spaces\n"},
		{name: "limit inside line", in: sample, tail: -1, opts: Options{LimitBytes: 6}, want: "one\ntw"},
		{name: "limit at line end", in: sample, tail: -1, opts: Options{LimitBytes: 4}, want: "one\n"},
		{name: "limit with timestamps", in: sample, tail: 1, opts: Options{LimitBytes: 22, Timestamps: true}, want: "2026-11-26T15:00:04Z f"},
		{name: "malformed lines skipped", in: "garbage\n2026-11-26T15:00:00Z stdout F ok\nx y z w\n2026-11-26T15:00:00Z stdin F no\n2026-11-26T15:00:00Z stdout X no\n", tail: -1, want: "ok\n"},
		{name: "partial at end of file", in: "2026-11-26T15:00:00Z stdout F a\n2026-11-26T15:00:01Z stdout P b", tail: -1, want: "a\nb"},
		{name: "pending partial at end of file", in: "2026-11-26T15:00:00Z stdout P a\n2026-11-26T15:00:01Z stdout P b\n", tail: -1, want: "ab"},
		{name: "empty", in: "", tail: -1, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := render(t, tc.in, tc.tail, tc.opts); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLineFields(t *testing.T) {
	r := NewReader(strings.NewReader(sample), 0)
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	l, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if l.Stream != Stderr || l.Partial || string(l.Content) != "two and a half" || l.Time.Second() != 1 {
		t.Errorf("joined line = %+v", l)
	}
}

// growingReader returns io.EOF when its buffer is empty, like a log file
// that is still being written.
type growingReader struct{ buf bytes.Buffer }

func (g *growingReader) Read(p []byte) (int, error) { return g.buf.Read(p) }

func TestFollowGrowingInput(t *testing.T) {
	g := &growingReader{}
	r := NewReader(g, 0)
	g.buf.WriteString("2026-11-26T15:00:00Z stdout P hel")
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("Next on half a line: %v, want EOF", err)
	}
	g.buf.WriteString("lo-part\n2026-11-26T15:00:00Z std")
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("Next on a partial fragment: %v, want EOF", err)
	}
	g.buf.WriteString("out F  world\n")
	l, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if got := string(l.Content); got != "hello-part world" {
		t.Errorf("content = %q", got)
	}
	if _, ok := r.Flush(); ok {
		t.Error("Flush returned a line after a complete one")
	}
}

func TestMaxLine(t *testing.T) {
	in := strings.Repeat("2026-11-26T15:00:00Z stdout P 0123456789\n", 5) + "2026-11-26T15:00:00Z stdout F end\n"
	r := NewReader(strings.NewReader(in), 25)
	var got []string
	for {
		l, err := r.Next()
		if err != nil {
			break
		}
		got = append(got, string(Format(l, false)))
	}
	want := []string{"012345678901234567890123456789", "01234567890123456789end\n"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestOverlongRawLine(t *testing.T) {
	in := "2026-11-26T15:00:00Z stdout F " + strings.Repeat("x", 10000) + "\n2026-11-26T15:00:00Z stdout F ok\n"
	r := NewReader(strings.NewReader(in), 100)
	var got []string
	for {
		l, err := r.Next()
		if errors.Is(err, ErrMalformed) {
			continue
		}
		if err != nil {
			break
		}
		got = append(got, string(l.Content))
	}
	if len(got) != 1 || got[0] != "ok" {
		t.Errorf("got %q, want [ok]", got)
	}
}
