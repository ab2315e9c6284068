package plugin

import "testing"

func TestSameName(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"example.org.", "example.org.", true},
		{"Example.ORG.", "example.org", true},
		{"example.org", "example.org.", true},
		{".", ".", true},
		{"example.org.", "example.com.", false},
		{"example.org.", "xexample.org.", false},
		{"a-b.", "a-B.", true},
		{"a[b.", "a{b.", false}, // '[' and '{' differ by 0x20 but are not letters
		{"", "", true},
	}
	for _, tt := range tests {
		if got := SameName(tt.a, tt.b); got != tt.want {
			t.Errorf("SameName(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
