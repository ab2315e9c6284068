package apiserver

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"rudder/controlplane/apiserver/authn"
	"rudder/controlplane/apiserver/serviceaccount"
	"rudder/controlplane/catalog"
)

// ServiceAccountConfig turns on service account credentials: the
// serviceaccounts/token subresource (TokenRequest), authentication of the
// tokens it issues and the ServiceAccount admission of pods.
type ServiceAccountConfig struct {
	Signer *serviceaccount.Signer
	// Verifier checks tokens; nil trusts the signer's key only.
	Verifier *serviceaccount.Verifier
	// Issuer is the iss of issued tokens and the only one accepted; the
	// API's audiences are [Issuer].
	Issuer string
	// MaxExpiration caps the lifetime a TokenRequest may ask for
	// (default 48h).
	MaxExpiration time.Duration
	// LookupAttempts and LookupInterval bound how long pod admission
	// waits for a namespace's default service account to appear
	// (defaults 10 and 150ms, as upstream).
	LookupAttempts int
	LookupInterval time.Duration
}

// Token lifetime bounds of TokenRequest, as upstream.
const (
	minTokenExpiration     = 10 * time.Minute
	defaultTokenExpiration = time.Hour
	// kubeletTokenSeconds is the lifetime ServiceAccount admission asks
	// for in the kube-api-access volume; such tokens bound to a pod are
	// valid for extendedTokenExpiration, as upstream's
	// --service-account-extend-token-expiration (default on) does, so a
	// client that never rereads its token file keeps working. The status
	// still reports the asked-for expiry and the claim warnafter marks it.
	kubeletTokenSeconds     = 3607
	extendedTokenExpiration = 365 * 24 * time.Hour
	defaultMaxExpiration    = 48 * time.Hour
)

var (
	serviceAccountResource, _ = catalog.Lookup(corev1.SchemeGroupVersion.WithResource("serviceaccounts"))
	podResource, _            = catalog.Lookup(corev1.SchemeGroupVersion.WithResource("pods"))
	secretResource, _         = catalog.Lookup(corev1.SchemeGroupVersion.WithResource("secrets"))
)

// setupServiceAccounts fills the defaults of cfg.ServiceAccounts and puts
// the token authenticator in front of the static ones (on a copy of the
// configured Authenticator).
func (s *Server) setupServiceAccounts() error {
	sa := s.cfg.ServiceAccounts
	if sa == nil {
		return nil
	}
	if sa.Signer == nil || sa.Issuer == "" {
		return errors.New("apiserver: service accounts need a signer and an issuer")
	}
	if sa.Verifier == nil {
		v, err := serviceaccount.NewVerifier(sa.Signer.Public())
		if err != nil {
			return err
		}
		sa.Verifier = v
	}
	if sa.MaxExpiration == 0 {
		sa.MaxExpiration = defaultMaxExpiration
	}
	if sa.LookupAttempts == 0 {
		sa.LookupAttempts = 10
	}
	if sa.LookupInterval == 0 {
		sa.LookupInterval = 150 * time.Millisecond
	}
	tokens, err := serviceaccount.NewAuthenticator(serviceaccount.AuthenticatorConfig{
		Verifier: sa.Verifier, Issuer: sa.Issuer, Getter: objectGetter{s}})
	if err != nil {
		return err
	}
	a := *s.cfg.Authenticator
	a.ServiceAccounts = tokens
	s.cfg.Authenticator = &a
	return nil
}

// objectGetter serves the token authenticator from the store.
type objectGetter struct{ s *Server }

func (g objectGetter) ServiceAccount(ctx context.Context, ns, name string) (*corev1.ServiceAccount, error) {
	obj, err := g.s.objects.Get(ctx, serviceAccountResource, ns, name)
	if err != nil {
		return nil, storageErr(err, serviceAccountResource.GroupResource(), name)
	}
	return obj.(*corev1.ServiceAccount), nil
}

func (g objectGetter) Pod(ctx context.Context, ns, name string) (*corev1.Pod, error) {
	obj, err := g.s.objects.Get(ctx, podResource, ns, name)
	if err != nil {
		return nil, storageErr(err, podResource.GroupResource(), name)
	}
	return obj.(*corev1.Pod), nil
}

func (g objectGetter) Secret(ctx context.Context, ns, name string) (*corev1.Secret, error) {
	obj, err := g.s.objects.Get(ctx, secretResource, ns, name)
	if err != nil {
		return nil, storageErr(err, secretResource.GroupResource(), name)
	}
	return obj.(*corev1.Secret), nil
}

var _ serviceaccount.Getter = objectGetter{}
var _ authn.TokenAuthenticator = (*serviceaccount.Authenticator)(nil)

// admitServiceAccount is upstream's ServiceAccount admission for pods on
// create: default spec.serviceAccountName, require the service account,
// and mount the API access volume unless opted out. Mirror pods are only
// checked, never changed.
func (s *Server) admitServiceAccount(ctx context.Context, q *request, pod *corev1.Pod) error {
	if s.cfg.ServiceAccounts == nil {
		return nil
	}
	mirror := serviceaccount.IsMirrorPod(pod)
	if pod.Spec.ServiceAccountName == "" && !mirror {
		pod.Spec.ServiceAccountName = serviceaccount.DefaultName
	}
	if pod.Spec.ServiceAccountName == "" {
		return nil
	}
	sa, err := s.waitServiceAccount(ctx, q.namespace, pod.Spec.ServiceAccountName)
	if err != nil {
		return apierrors.NewForbidden(q.gr(), pod.Name, fmt.Errorf("error looking up service account %s/%s: %w",
			q.namespace, pod.Spec.ServiceAccountName, err))
	}
	if !mirror && serviceaccount.ShouldAutomount(sa, pod) {
		serviceaccount.MountAPIAccess(pod, randomSuffix(5))
	}
	return nil
}

// waitServiceAccount reads a service account; the default one gets a few
// attempts, since its controller creates it right after the namespace.
func (s *Server) waitServiceAccount(ctx context.Context, ns, name string) (*corev1.ServiceAccount, error) {
	attempts := 1
	if name == serviceaccount.DefaultName {
		attempts = s.cfg.ServiceAccounts.LookupAttempts
	}
	g := objectGetter{s}
	for i := 0; ; i++ {
		sa, err := g.ServiceAccount(ctx, ns, name)
		if err == nil || !apierrors.IsNotFound(err) || i+1 >= attempts {
			return sa, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(s.cfg.ServiceAccounts.LookupInterval):
		}
	}
}

// ensureDefaultServiceAccounts creates the default service account of the
// system namespaces at start, so the first pods do not wait for the
// controller.
func (s *Server) ensureDefaultServiceAccounts(ctx context.Context) error {
	if s.cfg.ServiceAccounts == nil {
		return nil
	}
	gvr := corev1.SchemeGroupVersion.WithResource("serviceaccounts")
	for _, ns := range SystemNamespaces {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: serviceaccount.DefaultName, Namespace: ns}}
		if err := s.ensure(ctx, gvr, sa, false); err != nil {
			return fmt.Errorf("bootstrap service account %s/default: %w", ns, err)
		}
	}
	return nil
}
