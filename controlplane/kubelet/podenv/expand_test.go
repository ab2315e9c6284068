package podenv

import (
	"reflect"
	"testing"
)

func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "a", "B": "b", "EMPTY": "", "": "blank"}
	lookup := func(n string) (string, bool) { v, ok := vars[n]; return v, ok }
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{"$(A)", "a"},
		{"x$(A)y$(B)z", "xaybz"},
		{"$(EMPTY)", ""},
		{"$(UNKNOWN)", "$(UNKNOWN)"},
		{"$$(A)", "$(A)"},
		{"$$$(A)", "$a"},
		{"$$$$", "$$"},
		{"$", "$"},
		{"a$", "a$"},
		{"$A", "$A"},
		{"$(A", "$(A"},
		{"$(A$(B)", "$(A$(B)"},
		{"$()", "blank"},
		{"$(A)$(", "a$("},
		{"$(A)(B)", "a(B)"},
		{"$(A))", "a)"},
		{"${A}", "${A}"},
		{"héllo $(A) wörld", "héllo a wörld"},
	}
	for _, tt := range tests {
		if got := Expand(tt.in, lookup); got != tt.want {
			t.Errorf("Expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestExpandCommand(t *testing.T) {
	env := []string{"HOST=a", "PORT=80", "HOST=b", "EQ=x=y"}
	tests := []struct {
		name              string
		cmd, args         []string
		wantCmd, wantArgs []string
	}{
		{"nil", nil, nil, nil, nil},
		{"last wins", []string{"/bin/$(HOST)"}, []string{"--port=$(PORT)", "$(EQ)"}, []string{"/bin/b"}, []string{"--port=80", "x=y"}},
		{"unknown and escaped", []string{"$(NOPE)"}, []string{"$$(HOST)", ""}, []string{"$(NOPE)"}, []string{"$(HOST)", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd, args := ExpandCommand(tt.cmd, tt.args, env)
			if !reflect.DeepEqual(cmd, tt.wantCmd) || !reflect.DeepEqual(args, tt.wantArgs) {
				t.Errorf("got %q %q, want %q %q", cmd, args, tt.wantCmd, tt.wantArgs)
			}
		})
	}
	in := []string{"$(HOST)"}
	ExpandCommand(in, nil, env)
	if in[0] != "$(HOST)" {
		t.Errorf("input modified: %q", in)
	}
}
