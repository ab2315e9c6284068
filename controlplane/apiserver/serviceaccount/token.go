// Package serviceaccount holds the pure parts of service account
// credentials, as upstream's pkg/serviceaccount: JWTs signed with ES256
// (Signer, Verifier), their claims, the token authenticator and the
// ServiceAccount admission rules for pods.
package serviceaccount

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// Claims are a service account token's JWT claims, as upstream issues
// them.
type Claims struct {
	Issuer     string    `json:"iss"`
	Subject    string    `json:"sub"`
	Audience   Audiences `json:"aud"`
	Expiry     int64     `json:"exp"`
	IssuedAt   int64     `json:"iat"`
	NotBefore  int64     `json:"nbf"`
	ID         string    `json:"jti,omitempty"`
	Kubernetes *Private  `json:"kubernetes.io,omitempty"`
}

// Private is the `kubernetes.io` claim: what the token is bound to.
type Private struct {
	Namespace      string `json:"namespace"`
	ServiceAccount Ref    `json:"serviceaccount"`
	Pod            *Ref   `json:"pod,omitempty"`
	Secret         *Ref   `json:"secret,omitempty"`
	// WarnAfter is set on extended tokens: the expiry the client asked
	// for, after which the token still works but should be replaced.
	WarnAfter int64 `json:"warnafter,omitempty"`
}

// Ref names an object and its UID.
type Ref struct {
	Name string `json:"name"`
	UID  string `json:"uid"`
}

// Audiences is the aud claim: a JSON string or array of strings.
type Audiences []string

// UnmarshalJSON accepts both forms of aud.
func (a *Audiences) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = Audiences{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("aud: want a string or an array of strings: %w", err)
	}
	*a = many
	return nil
}

// Subject is the user name of a service account:
// system:serviceaccount:<namespace>:<name>.
func Subject(namespace, name string) string {
	return "system:serviceaccount:" + namespace + ":" + name
}

// SplitSubject parses a service account user name.
func SplitSubject(sub string) (namespace, name string, ok bool) {
	rest, ok := strings.CutPrefix(sub, "system:serviceaccount:")
	if !ok {
		return "", "", false
	}
	namespace, name, ok = strings.Cut(rest, ":")
	return namespace, name, ok && namespace != "" && name != "" && !strings.Contains(name, ":")
}

type header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid,omitempty"`
	Typ string `json:"typ,omitempty"`
}

var b64 = base64.RawURLEncoding

// KeyID is the kid of a public key, as upstream: the unpadded base64url
// SHA-256 of its PKIX DER encoding.
func KeyID(pub *ecdsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("marshal public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return b64.EncodeToString(sum[:]), nil
}

// Signer issues ES256 tokens with one P-256 key.
type Signer struct {
	key *ecdsa.PrivateKey
	kid string
}

// NewSigner returns a signer for key, which must be a P-256 key.
func NewSigner(key *ecdsa.PrivateKey) (*Signer, error) {
	if key == nil || key.Curve != elliptic.P256() {
		return nil, errors.New("service account signing key: want an ECDSA P-256 key")
	}
	kid, err := KeyID(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	return &Signer{key: key, kid: kid}, nil
}

// Public returns the signer's public key, for a Verifier.
func (s *Signer) Public() *ecdsa.PublicKey { return &s.key.PublicKey }

// Sign returns c as a compact JWS.
func (s *Signer) Sign(c Claims) (string, error) {
	h, err := json.Marshal(header{Alg: "ES256", Kid: s.kid, Typ: "JWT"})
	if err != nil {
		return "", err
	}
	p, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("marshal claims: %w", err)
	}
	input := b64.EncodeToString(h) + "." + b64.EncodeToString(p)
	sum := sha256.Sum256([]byte(input))
	r, sv, err := ecdsa.Sign(rand.Reader, s.key, sum[:])
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	sv.FillBytes(sig[32:])
	return input + "." + b64.EncodeToString(sig), nil
}

// Verifier checks ES256 signatures against a set of public keys.
type Verifier struct {
	keys map[string]*ecdsa.PublicKey // by kid
}

// NewVerifier trusts the given P-256 public keys.
func NewVerifier(keys ...*ecdsa.PublicKey) (*Verifier, error) {
	v := &Verifier{keys: map[string]*ecdsa.PublicKey{}}
	for _, k := range keys {
		if k == nil || k.Curve != elliptic.P256() {
			return nil, errors.New("service account verifying key: want an ECDSA P-256 key")
		}
		kid, err := KeyID(k)
		if err != nil {
			return nil, err
		}
		v.keys[kid] = k
	}
	return v, nil
}

// ErrMalformed means the string is not a compact JWS.
var ErrMalformed = errors.New("malformed token")

// Verify checks the token's signature and returns its claims; it does not
// look at them (see Authenticator).
func (v *Verifier) Verify(token string) (*Claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, ErrMalformed
	}
	var h header
	if err := decodeSegment(parts[0], &h); err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrMalformed, err)
	}
	if h.Alg != "ES256" {
		return nil, fmt.Errorf("unsupported signing algorithm %q", h.Alg)
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return nil, fmt.Errorf("%w: signature", ErrMalformed)
	}
	if !v.verifySignature(h.Kid, parts[0]+"."+parts[1], sig) {
		return nil, errors.New("invalid signature")
	}
	var c Claims
	if err := decodeSegment(parts[1], &c); err != nil {
		return nil, fmt.Errorf("%w: claims: %w", ErrMalformed, err)
	}
	return &c, nil
}

func (v *Verifier) verifySignature(kid, input string, sig []byte) bool {
	sum := sha256.Sum256([]byte(input))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if k, ok := v.keys[kid]; ok {
		return ecdsa.Verify(k, sum[:], r, s)
	}
	for _, k := range v.keys { // tokens without (or with a foreign) kid
		if ecdsa.Verify(k, sum[:], r, s) {
			return true
		}
	}
	return false
}

func decodeSegment(seg string, into any) error {
	b, err := b64.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, into)
}
