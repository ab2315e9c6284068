package podenv

import "strings"

// Expand replaces $(NAME) references in s with lookup(NAME) when lookup
// reports the name as defined. The rules are upstream's:
//   - "$$" is an escaped "$" and becomes "$";
//   - "$(NAME)" whose NAME is unknown is left as is;
//   - a "$(" without a closing ")" and a "$" followed by anything else are
//     kept literally.
func Expand(s string, lookup func(name string) (string, bool)) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '$' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString("$(")
				i++
				continue
			}
			name := s[i+2 : i+2+end]
			if v, ok := lookup(name); ok {
				b.WriteString(v)
			} else {
				b.WriteString("$(" + name + ")")
			}
			i += end + 2
		default:
			b.WriteByte('$')
			b.WriteByte(s[i+1])
			i++
		}
	}
	return b.String()
}

// ExpandCommand expands $(VAR) references in a container's command and args
// against env, a list of KEY=VALUE entries (the last definition of a key
// wins), as the kubelet does before starting the container. Nil inputs give
// nil outputs; the inputs are not modified.
func ExpandCommand(cmd, args []string, env []string) ([]string, []string) {
	vars := make(map[string]string, len(env))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	lookup := func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
	return expandAll(cmd, lookup), expandAll(args, lookup)
}

func expandAll(in []string, lookup func(string) (string, bool)) []string {
	if in == nil {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = Expand(s, lookup)
	}
	return out
}
