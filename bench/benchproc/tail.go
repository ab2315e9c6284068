package benchproc

import (
	"os"
	"strings"
)

// Tail is the last n lines of a file, for error messages; "" when it
// cannot be read.
func Tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return LastLines(string(b), n)
}

// LastLines is the last n lines of s, without surrounding blank space,
// for error messages.
func LastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
