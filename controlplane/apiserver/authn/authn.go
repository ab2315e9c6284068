// Package authn tells who sent a request: a client certificate signed by the
// cluster CA (user = CN, groups = O) or a bearer token from a static token
// file. The identity travels in the request context to every handler, so an
// authorizer can be put in front of them later.
package authn

import (
	"context"
	"crypto/subtle"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

// User is an authenticated identity.
type User struct {
	Name   string
	UID    string
	Groups []string
}

// Groups every authenticated user belongs to, as upstream.
const (
	GroupAuthenticated = "system:authenticated"
	GroupMasters       = "system:masters"
)

type ctxKey struct{}

// WithUser returns ctx carrying u.
func WithUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, ctxKey{}, u)
}

// UserFrom returns the user in ctx, if any.
func UserFrom(ctx context.Context) (*User, bool) {
	u, ok := ctx.Value(ctxKey{}).(*User)
	return u, ok
}

// Tokens is a static token list: token → user.
type Tokens map[string]*User

// LoadTokenFile reads a static token file in the upstream format: one line
// per token, `token,user,uid[,"group1,group2"]`.
func LoadTokenFile(path string) (Tokens, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open token file: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.Comment = '#'
	tokens := Tokens{}
	for line := 1; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return tokens, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read token file %s: %w", path, err)
		}
		if len(rec) < 3 || rec[0] == "" || rec[1] == "" {
			return nil, fmt.Errorf("token file %s line %d: want token,user,uid[,groups]", path, line)
		}
		u := &User{Name: rec[1], UID: rec[2]}
		if len(rec) > 3 && rec[3] != "" {
			u.Groups = strings.Split(rec[3], ",")
		}
		tokens[rec[0]] = u
	}
}

// TokenAuthenticator validates bearer tokens that are not static, such
// as service account JWTs.
type TokenAuthenticator interface {
	AuthenticateToken(ctx context.Context, token string) (*User, error)
}

// Authenticator checks a request's credentials.
type Authenticator struct {
	Tokens Tokens
	// ServiceAccounts, if set, is asked about bearer tokens that are not
	// in Tokens.
	ServiceAccounts TokenAuthenticator
}

// ErrUnauthorized means no valid credentials came with the request.
var ErrUnauthorized = errors.New("Unauthorized")

// Authenticate returns the request's user. The TLS layer has already
// verified any client certificate against the CA.
func (a *Authenticator) Authenticate(r *http.Request) (*User, error) {
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		c := r.TLS.VerifiedChains[0][0]
		groups := append([]string{}, c.Subject.Organization...)
		return &User{Name: c.Subject.CommonName, Groups: append(groups, GroupAuthenticated)}, nil
	}
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return nil, ErrUnauthorized
		}
		tok = strings.TrimSpace(tok)
		for t, u := range a.Tokens {
			if subtle.ConstantTimeCompare([]byte(t), []byte(tok)) == 1 {
				cp := *u
				cp.Groups = append(append([]string{}, u.Groups...), GroupAuthenticated)
				return &cp, nil
			}
		}
		if a.ServiceAccounts != nil && tok != "" {
			u, err := a.ServiceAccounts.AuthenticateToken(r.Context(), tok)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrUnauthorized, err)
			}
			cp := *u
			cp.Groups = append(append([]string{}, u.Groups...), GroupAuthenticated)
			return &cp, nil
		}
	}
	return nil, ErrUnauthorized
}
