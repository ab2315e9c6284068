package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"rudder/controlplane/apiserver/serviceaccount"
)

var tokenRequestKind = authnv1.SchemeGroupVersion.WithKind("TokenRequest")

// serveToken is serviceaccounts/token: it issues a JWT for the service
// account, optionally bound to a pod or secret (TokenRequest).
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request, q *request) error {
	if r.Method != http.MethodPost {
		return apierrors.NewMethodNotSupported(q.gr(), r.Method)
	}
	if s.cfg.ServiceAccounts == nil {
		return notFoundResource()
	}
	opts, err := parseWriteOptions(r)
	if err != nil {
		return err
	}
	obj, err := s.readObject(w, r, tokenRequestKind, opts.validation)
	if err != nil {
		return err
	}
	req := obj.(*authnv1.TokenRequest)
	if req.Name != "" && req.Name != q.name {
		return badRequest("name in URL does not match name in TokenRequest object")
	}
	out, err := s.issueToken(r.Context(), q, req, opts.dryRun)
	if err != nil {
		return err
	}
	s.writeObject(w, http.StatusCreated, q.media, out)
	return nil
}

// issueToken validates req and fills its status with a signed token.
func (s *Server) issueToken(ctx context.Context, q *request, req *authnv1.TokenRequest, dryRun bool) (*authnv1.TokenRequest, error) {
	cfg := s.cfg.ServiceAccounts
	sa, err := objectGetter{s}.ServiceAccount(ctx, q.namespace, q.name)
	if err != nil {
		return nil, err
	}
	if errs := validateTokenRequest(&req.Spec); len(errs) > 0 {
		return nil, apierrors.NewInvalid(tokenRequestKind.GroupKind(), q.name, errs)
	}
	defaultTokenRequest(&req.Spec, cfg)
	priv := &serviceaccount.Private{Namespace: q.namespace,
		ServiceAccount: serviceaccount.Ref{Name: sa.Name, UID: string(sa.UID)}}
	if err := s.bindToken(ctx, q, req.Spec.BoundObjectRef, priv); err != nil {
		return nil, err
	}
	now := time.Now()
	exp := now.Add(time.Duration(*req.Spec.ExpirationSeconds) * time.Second)
	tokenExp := exp
	if *req.Spec.ExpirationSeconds == kubeletTokenSeconds && priv.Pod != nil {
		tokenExp = now.Add(extendedTokenExpiration)
		priv.WarnAfter = exp.Unix()
	}
	out := req.DeepCopy()
	out.TypeMeta = metav1.TypeMeta{APIVersion: tokenRequestKind.GroupVersion().String(), Kind: tokenRequestKind.Kind}
	out.Name, out.Namespace = q.name, q.namespace
	out.CreationTimestamp = metav1.NewTime(now.Truncate(time.Second))
	out.Status.ExpirationTimestamp = metav1.NewTime(exp.Truncate(time.Second))
	if dryRun {
		return out, nil
	}
	out.Status.Token, err = cfg.Signer.Sign(serviceaccount.Claims{
		Issuer: cfg.Issuer, Subject: serviceaccount.Subject(q.namespace, sa.Name), Audience: req.Spec.Audiences,
		Expiry: tokenExp.Unix(), IssuedAt: now.Unix(), NotBefore: now.Unix(), ID: string(uuid.NewUUID()), Kubernetes: priv,
	})
	if err != nil {
		return nil, fmt.Errorf("issue token for %s/%s: %w", q.namespace, q.name, err)
	}
	return out, nil
}

// validateTokenRequest checks a TokenRequest's spec, as upstream.
func validateTokenRequest(spec *authnv1.TokenRequestSpec) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("spec")
	if e := spec.ExpirationSeconds; e != nil {
		if time.Duration(*e)*time.Second < minTokenExpiration {
			errs = append(errs, field.Invalid(p.Child("expirationSeconds"), *e, "may not specify a duration less than 10 minutes"))
		}
		if *e > 1<<32 {
			errs = append(errs, field.Invalid(p.Child("expirationSeconds"), *e, "may not specify a duration larger than 2^32 seconds"))
		}
	}
	for i, a := range spec.Audiences {
		if a == "" {
			errs = append(errs, field.Required(p.Child("audiences").Index(i), "may not be empty"))
		}
	}
	if ref := spec.BoundObjectRef; ref != nil {
		rp := p.Child("boundObjectRef")
		if ref.Kind != "Pod" && ref.Kind != "Secret" {
			errs = append(errs, field.NotSupported(rp.Child("kind"), ref.Kind, []string{"Pod", "Secret"}))
		}
		if ref.APIVersion != "" && ref.APIVersion != "v1" {
			errs = append(errs, field.NotSupported(rp.Child("apiVersion"), ref.APIVersion, []string{"v1"}))
		}
		if ref.Name == "" {
			errs = append(errs, field.Required(rp.Child("name"), ""))
		}
	}
	return errs
}

// defaultTokenRequest fills the lifetime (capped) and the audiences.
func defaultTokenRequest(spec *authnv1.TokenRequestSpec, cfg *ServiceAccountConfig) {
	secs := int64(defaultTokenExpiration / time.Second)
	if spec.ExpirationSeconds != nil {
		secs = min(*spec.ExpirationSeconds, int64(cfg.MaxExpiration/time.Second))
	}
	spec.ExpirationSeconds = &secs
	if len(spec.Audiences) == 0 {
		spec.Audiences = []string{cfg.Issuer}
	}
}

// bindToken checks the bound object (it exists, its uid matches, a pod
// runs as this service account) and records it in the private claim.
func (s *Server) bindToken(ctx context.Context, q *request, ref *authnv1.BoundObjectReference, priv *serviceaccount.Private) error {
	if ref == nil {
		return nil
	}
	g := objectGetter{s}
	var uid types.UID
	switch ref.Kind {
	case "Pod":
		pod, err := g.Pod(ctx, q.namespace, ref.Name)
		if err != nil {
			return err
		}
		if sa := pod.Spec.ServiceAccountName; sa != q.name && (sa != "" || q.name != serviceaccount.DefaultName) {
			return badRequest("cannot bind token for serviceaccount %q to pod running with different serviceaccount name (spec.boundObjectRef)", q.name)
		}
		uid = pod.UID
		priv.Pod = &serviceaccount.Ref{Name: pod.Name, UID: string(pod.UID)}
	case "Secret":
		sec, err := g.Secret(ctx, q.namespace, ref.Name)
		if err != nil {
			return err
		}
		uid = sec.UID
		priv.Secret = &serviceaccount.Ref{Name: sec.Name, UID: string(sec.UID)}
	}
	if ref.UID != "" && ref.UID != uid {
		return apierrors.NewConflict(schema.GroupResource{Resource: ref.Kind}, ref.Name,
			fmt.Errorf("spec.boundObjectRef.uid: the UID in the bound object reference (%s) does not match the UID in record (%s); the object might have been deleted and then recreated", ref.UID, uid))
	}
	return nil
}
