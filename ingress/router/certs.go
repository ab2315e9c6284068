package router

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// CertCache keeps parsed certificates across builds, keyed by the Secret's
// namespace/name and resourceVersion, so an unchanged Secret is parsed
// once. It is the router's one piece of state. It is safe for concurrent
// use; Build drops the entries of Secrets it no longer uses, so concurrent
// builds over different snapshots may evict each other's entries (the
// only cost is parsing again). Secrets without a resourceVersion are
// never cached.
type CertCache struct {
	mu      sync.Mutex
	entries map[string]certCacheEntry
}

type certCacheEntry struct {
	resourceVersion string
	cert            *tls.Certificate
	err             error
}

// NewCertCache returns an empty cache.
func NewCertCache() *CertCache {
	return &CertCache{entries: map[string]certCacheEntry{}}
}

// load parses s's certificate, from the cache when s is unchanged.
func (c *CertCache) load(s *corev1.Secret) (*tls.Certificate, error) {
	key := s.Namespace + "/" + s.Name
	if c == nil || s.ResourceVersion == "" {
		return parseSecret(s)
	}
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && e.resourceVersion == s.ResourceVersion {
		return e.cert, e.err
	}
	cert, err := parseSecret(s)
	c.mu.Lock()
	c.entries[key] = certCacheEntry{resourceVersion: s.ResourceVersion, cert: cert, err: err}
	c.mu.Unlock()
	return cert, err
}

// retain drops the entries whose key is not in keep.
func (c *CertCache) retain(keep map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.entries {
		if !keep[k] {
			delete(c.entries, k)
		}
	}
}

// Len is the number of cached Secrets.
func (c *CertCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// parseSecret reads a kubernetes.io/tls Secret into a certificate with
// its Leaf set.
func parseSecret(s *corev1.Secret) (*tls.Certificate, error) {
	if s.Type != corev1.SecretTypeTLS {
		return nil, fmt.Errorf("secret %s/%s has type %q, want %q", s.Namespace, s.Name, s.Type, corev1.SecretTypeTLS)
	}
	crt, key := s.Data[corev1.TLSCertKey], s.Data[corev1.TLSPrivateKeyKey]
	if len(crt) == 0 || len(key) == 0 {
		return nil, fmt.Errorf("secret %s/%s lacks %s or %s", s.Namespace, s.Name, corev1.TLSCertKey, corev1.TLSPrivateKeyKey)
	}
	cert, err := tls.X509KeyPair(crt, key)
	if err != nil {
		return nil, fmt.Errorf("parse key pair of secret %s/%s: %w", s.Namespace, s.Name, err)
	}
	if cert.Leaf == nil {
		if len(cert.Certificate) == 0 {
			return nil, errors.New("no certificate")
		}
		leaf, err := x509.ParseCertificate(cert.Certificate[0])
		if err != nil {
			return nil, fmt.Errorf("parse certificate of secret %s/%s: %w", s.Namespace, s.Name, err)
		}
		cert.Leaf = leaf
	}
	return &cert, nil
}

// certEntry is the certificate served for one TLS host.
type certEntry struct {
	cert   *tls.Certificate
	secret string // namespace/name, for Dump
	owner  *networkingv1.Ingress
}

// buildCerts maps the TLS hosts of our Ingresses (oldest first) to their
// certificates; the oldest Ingress wins a host.
func (b *builder) buildCerts(ours []*networkingv1.Ingress) {
	for _, ing := range ours {
		for _, t := range ing.Spec.TLS {
			if t.SecretName == "" {
				continue // the proxy's default certificate
			}
			cert := b.secretCert(ing, t.SecretName)
			if cert == nil {
				continue
			}
			hosts := t.Hosts
			if len(hosts) == 0 {
				hosts = ruleHosts(ing)
			}
			e := certEntry{cert: cert, secret: ing.Namespace + "/" + t.SecretName, owner: ing}
			for _, h := range hosts {
				h = strings.ToLower(strings.TrimSuffix(h, "."))
				if got := b.table.addCert(h, e); got.owner != nil && got.owner != ing && got.secret != e.secret {
					b.warn(ing, ReasonConflict, "TLS host %q already uses secret %s of the older ingress %s/%s; secret %s is ignored for it",
						h, got.secret, got.owner.Namespace, got.owner.Name, e.secret)
				}
			}
		}
	}
}

// secretCert loads a TLS secret of ing's namespace; nil after reporting
// a problem.
func (b *builder) secretCert(ing *networkingv1.Ingress, name string) *tls.Certificate {
	key := ing.Namespace + "/" + name
	s := b.secrets[key]
	if s == nil {
		b.warn(ing, ReasonSecretNotFound, "TLS secret %s not found", key)
		return nil
	}
	b.secretsUsed[key] = true
	cert, err := b.cfg.Certs.load(s)
	if err != nil {
		b.warn(ing, ReasonInvalidCertificate, "TLS secret %s: %v", key, err)
		return nil
	}
	return cert
}

// addDefaultCert loads Config.DefaultCertificate. Its problems are about
// the configuration, not an Ingress: they are logged, and TLS clients
// get the proxy's generated certificate meanwhile.
func (b *builder) addDefaultCert() {
	ref := b.cfg.DefaultCertificate
	if ref == "" {
		return
	}
	if _, _, err := ParseSecretRef(ref); err != nil {
		b.warn(nil, ReasonInvalidDefaultCert, "default certificate: %v", err)
		return
	}
	s := b.secrets[ref]
	if s == nil {
		b.warn(nil, ReasonInvalidDefaultCert, "default certificate: TLS secret %s not found", ref)
		return
	}
	b.secretsUsed[ref] = true
	cert, err := b.cfg.Certs.load(s)
	if err != nil {
		b.warn(nil, ReasonInvalidDefaultCert, "default certificate: TLS secret %s: %v", ref, err)
		return
	}
	b.table.certDef = certEntry{cert: cert, secret: ref}
}

// ParseSecretRef reads "namespace/name", the form of
// Config.DefaultCertificate.
func ParseSecretRef(s string) (namespace, name string, err error) {
	ns, name, ok := strings.Cut(s, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return "", "", fmt.Errorf("parse secret reference %q: want namespace/name", s)
	}
	return ns, name, nil
}

// ruleHosts are the non-empty hosts of ing's rules.
func ruleHosts(ing *networkingv1.Ingress) []string {
	var out []string
	for _, r := range ing.Spec.Rules {
		if r.Host != "" {
			out = append(out, r.Host)
		}
	}
	return out
}
