package serviceaccount

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"rudder/controlplane/apiserver/authn"
)

// Groups of every service account user, as upstream.
const (
	GroupAll    = "system:serviceaccounts"
	groupPrefix = "system:serviceaccounts:"
)

// Getter reads the objects a token is bound to; the apiserver serves it
// from its store. Missing objects are reported as apierrors NotFound.
type Getter interface {
	ServiceAccount(ctx context.Context, namespace, name string) (*corev1.ServiceAccount, error)
	Pod(ctx context.Context, namespace, name string) (*corev1.Pod, error)
	Secret(ctx context.Context, namespace, name string) (*corev1.Secret, error)
}

// AuthenticatorConfig configures an Authenticator.
type AuthenticatorConfig struct {
	Verifier *Verifier
	// Issuer is the only accepted iss.
	Issuer string
	// Audiences are the API's audiences: a token must name one of them.
	Audiences []string
	Getter    Getter
	// Leeway is the clock skew allowed on exp, nbf and iat (default 60s,
	// as upstream).
	Leeway time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Authenticator turns service account tokens into users.
type Authenticator struct {
	cfg AuthenticatorConfig
}

// NewAuthenticator checks cfg and fills its defaults.
func NewAuthenticator(cfg AuthenticatorConfig) (*Authenticator, error) {
	if cfg.Verifier == nil || cfg.Getter == nil || cfg.Issuer == "" {
		return nil, errors.New("service account authenticator: a verifier, a getter and an issuer are required")
	}
	if len(cfg.Audiences) == 0 {
		cfg.Audiences = []string{cfg.Issuer}
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Authenticator{cfg: cfg}, nil
}

// deletionGrace is how long a token stays valid after its bound object
// started being deleted, as upstream.
const deletionGrace = time.Minute

// AuthenticateToken validates a bearer token and returns its user.
func (a *Authenticator) AuthenticateToken(ctx context.Context, token string) (*authn.User, error) {
	c, err := a.cfg.Verifier.Verify(token)
	if err != nil {
		return nil, err
	}
	if err := a.checkClaims(c); err != nil {
		return nil, err
	}
	p := c.Kubernetes
	sa, err := a.cfg.Getter.ServiceAccount(ctx, p.Namespace, p.ServiceAccount.Name)
	if err := a.checkBound("serviceaccount", p.ServiceAccount, sa, err); err != nil {
		return nil, err
	}
	if p.Pod != nil {
		pod, err := a.cfg.Getter.Pod(ctx, p.Namespace, p.Pod.Name)
		if err := a.checkBound("pod", *p.Pod, pod, err); err != nil {
			return nil, err
		}
	}
	if p.Secret != nil {
		sec, err := a.cfg.Getter.Secret(ctx, p.Namespace, p.Secret.Name)
		if err := a.checkBound("secret", *p.Secret, sec, err); err != nil {
			return nil, err
		}
	}
	return &authn.User{
		Name: c.Subject, UID: p.ServiceAccount.UID,
		Groups: []string{GroupAll, groupPrefix + p.Namespace},
	}, nil
}

func (a *Authenticator) checkClaims(c *Claims) error {
	if c.Issuer != a.cfg.Issuer {
		return fmt.Errorf("token issuer %q is not %q", c.Issuer, a.cfg.Issuer)
	}
	if !slices.ContainsFunc(c.Audience, func(aud string) bool { return slices.Contains(a.cfg.Audiences, aud) }) {
		return fmt.Errorf("token audiences %v are not among %v", c.Audience, a.cfg.Audiences)
	}
	now := a.cfg.Now()
	if c.Expiry == 0 || now.After(time.Unix(c.Expiry, 0).Add(a.cfg.Leeway)) {
		return errors.New("token has expired")
	}
	if c.NotBefore != 0 && now.Add(a.cfg.Leeway).Before(time.Unix(c.NotBefore, 0)) {
		return errors.New("token is not valid yet")
	}
	if c.IssuedAt != 0 && now.Add(a.cfg.Leeway).Before(time.Unix(c.IssuedAt, 0)) {
		return errors.New("token was issued in the future")
	}
	p := c.Kubernetes
	if p == nil {
		return errors.New("token has no kubernetes.io claim")
	}
	ns, name, ok := SplitSubject(c.Subject)
	if !ok || ns != p.Namespace || name != p.ServiceAccount.Name {
		return fmt.Errorf("token subject %q does not match its kubernetes.io claim", c.Subject)
	}
	return nil
}

// checkBound rejects a token whose bound object is gone, replaced (uid
// differs) or deleted for longer than the grace period.
func (a *Authenticator) checkBound(kind string, ref Ref, obj metav1.Object, getErr error) error {
	if apierrors.IsNotFound(getErr) {
		return fmt.Errorf("%s %q bound to the token no longer exists", kind, ref.Name)
	}
	if getErr != nil {
		return fmt.Errorf("look up %s %q bound to the token: %w", kind, ref.Name, getErr)
	}
	if ref.UID != "" && string(obj.GetUID()) != ref.UID {
		return fmt.Errorf("%s %q bound to the token has uid %s, not %s", kind, ref.Name, obj.GetUID(), ref.UID)
	}
	if dt := obj.GetDeletionTimestamp(); dt != nil && dt.Add(deletionGrace).Before(a.cfg.Now()) {
		return fmt.Errorf("%s %q bound to the token is being deleted", kind, ref.Name)
	}
	return nil
}
