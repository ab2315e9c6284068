// Package benchout writes the files of one benchmark section: its
// results as JSON and its part of REPORT.md as Markdown.
package benchout

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Section is a benchmark's results that render their REPORT.md section.
type Section interface {
	WriteMarkdown(w io.Writer) error
}

// Files writes s as JSON to dir/jsonName and its Markdown section to
// dir/mdName.
func Files(dir, jsonName, mdName string, s Section) error {
	if err := WriteJSON(filepath.Join(dir, jsonName), s); err != nil {
		return err
	}
	return WriteMarkdown(filepath.Join(dir, mdName), s)
}

// WriteJSON writes v to path as indented JSON with a final newline.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results for %s: %w", path, err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// WriteMarkdown writes the Markdown section of s to path.
func WriteMarkdown(path string, s Section) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := s.WriteMarkdown(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	return nil
}
