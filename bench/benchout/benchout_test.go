package benchout

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"
)

type fake struct {
	Name string `json:"name"`
	err  error
}

func (f fake) WriteMarkdown(w io.Writer) error {
	if f.err != nil {
		return f.err
	}
	_, err := io.WriteString(w, "## "+f.Name+"\n")
	return err
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	if err := Files(dir, "x.json", "X.md", fake{Name: "x"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "x.json"))
	if err != nil || string(b) != "{\n  \"name\": \"x\"\n}\n" {
		t.Errorf("x.json = %q, %v", b, err)
	}
	var back fake
	if err := json.Unmarshal(b, &back); err != nil || back.Name != "x" {
		t.Errorf("x.json does not read back: %+v, %v", back, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "X.md")); err != nil || string(b) != "## x\n" {
		t.Errorf("X.md = %q, %v", b, err)
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	for name, err := range map[string]error{
		"unencodable":    WriteJSON(filepath.Join(dir, "a.json"), math.Inf(1)),
		"missing dir":    WriteJSON(filepath.Join(dir, "no", "a.json"), 1),
		"markdown fails": WriteMarkdown(filepath.Join(dir, "A.md"), fake{err: errors.New("boom")}),
		"md missing dir": WriteMarkdown(filepath.Join(dir, "no", "A.md"), fake{}),
		"files":          Files(filepath.Join(dir, "no"), "a.json", "A.md", fake{}),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
