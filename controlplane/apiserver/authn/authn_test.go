package authn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestLoadTokenFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "tokens.csv")
	content := "# agents\nabc123,node-1,uid-1,\"system:nodes,rudder:agents\"\nxyz789,viewer,uid-2\n"
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	tokens, err := LoadTokenFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if u := tokens["abc123"]; u == nil || u.Name != "node-1" || u.UID != "uid-1" || !slices.Equal(u.Groups, []string{"system:nodes", "rudder:agents"}) {
		t.Fatalf("abc123 → %+v", u)
	}
	if u := tokens["xyz789"]; u == nil || u.Name != "viewer" || len(u.Groups) != 0 {
		t.Fatalf("xyz789 → %+v", u)
	}
	bad := filepath.Join(t.TempDir(), "bad.csv")
	_ = os.WriteFile(bad, []byte("only-a-token\n"), 0o600)
	if _, err := LoadTokenFile(bad); err == nil {
		t.Fatal("a line without user and uid was accepted")
	}
}

func TestAuthenticate(t *testing.T) {
	a := &Authenticator{Tokens: Tokens{"good": {Name: "agent", Groups: []string{"rudder:agents"}}},
		ServiceAccounts: fakeTokens{"jwt": {Name: "system:serviceaccount:ns:sa", Groups: []string{"system:serviceaccounts"}}}}
	cases := []struct {
		name      string
		header    string
		cert      *x509.Certificate
		wantUser  string
		wantGroup string
	}{
		{"bearer token", "Bearer good", nil, "agent", "rudder:agents"},
		{"wrong token", "Bearer bad", nil, "", ""},
		{"service account token", "Bearer jwt", nil, "system:serviceaccount:ns:sa", "system:serviceaccounts"},
		{"basic auth is not accepted", "Basic Z29vZDo=", nil, "", ""},
		{"nothing", "", nil, "", ""},
		{"client certificate", "", &x509.Certificate{Subject: pkix.Name{CommonName: "system:admin", Organization: []string{"system:masters"}}}, "system:admin", "system:masters"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/api", nil)
			if c.header != "" {
				r.Header.Set("Authorization", c.header)
			}
			if c.cert != nil {
				r.TLS = &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{c.cert}}}
			}
			u, err := a.Authenticate(r)
			if c.wantUser == "" {
				if err == nil {
					t.Fatalf("authenticated as %+v, want 401", u)
				}
				return
			}
			if err != nil || u.Name != c.wantUser || !slices.Contains(u.Groups, c.wantGroup) || !slices.Contains(u.Groups, GroupAuthenticated) {
				t.Fatalf("got %+v, %v; want %s in %s and %s", u, err, c.wantUser, c.wantGroup, GroupAuthenticated)
			}
		})
	}
}

// fakeTokens is a TokenAuthenticator over a fixed map.
type fakeTokens map[string]*User

func (f fakeTokens) AuthenticateToken(_ context.Context, token string) (*User, error) {
	if u, ok := f[token]; ok {
		return u, nil
	}
	return nil, errors.New("unknown token")
}
