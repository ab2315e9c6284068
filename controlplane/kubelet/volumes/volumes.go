// Package volumes materialises a pod's volumes under the kubelet's pod
// directory, as upstream's volume plugins lay them out:
// <PodDir>/volumes/kubernetes.io~<kind>/<name>. emptyDir is a directory;
// hostPath is checked (and created for the *OrCreate types) in place;
// configMap, secret, downwardAPI and projected volumes are written with
// an atomic writer so that calling Setup again publishes an update in
// one step. Mounts resolves a container's volumeMounts (subPath,
// subPathExpr, readOnly) to host paths.
package volumes

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Directory names of the volume kinds under <PodDir>/volumes, as upstream.
const (
	KindEmptyDir    = "kubernetes.io~empty-dir"
	KindConfigMap   = "kubernetes.io~configmap"
	KindSecret      = "kubernetes.io~secret"
	KindDownwardAPI = "kubernetes.io~downward-api"
	KindProjected   = "kubernetes.io~projected"
)

// allKinds are the directories Setup creates and Teardown removes.
func allKinds() []string {
	return []string{KindEmptyDir, KindConfigMap, KindSecret, KindDownwardAPI, KindProjected}
}

// Default file modes, as the API defaults them.
const (
	DefaultMode               int32 = 0o644
	DefaultTokenExpirationSec int64 = 3600
)

// Dir is where a volume lives on the host.
type Dir struct {
	// Path is the host path a container mounts.
	Path string
	// ReadOnly is set for volumes that are always mounted read-only
	// (configMap, secret, downwardAPI, projected).
	ReadOnly bool
}

// SetupInput is what Setup needs to materialise one pod's volumes.
type SetupInput struct {
	// Context bounds the lookups (token requests); default Background.
	Context context.Context
	// PodDir is the kubelet's directory for this pod.
	PodDir string
	Pod    *corev1.Pod
	// ConfigMap and Secret return an object of the pod's namespace; a
	// NotFound API error or (nil, nil) means it does not exist.
	ConfigMap func(namespace, name string) (*corev1.ConfigMap, error)
	Secret    func(namespace, name string) (*corev1.Secret, error)
	// Token requests a service account token for the pod (TokenRequest).
	Token func(ctx context.Context, pod *corev1.Pod, audience string, expirationSeconds int64) (string, error)
	// NodeAllocatable is what resourceFieldRef limits default to when a
	// container sets none; when nil the machine's CPUs and memory are used.
	NodeAllocatable corev1.ResourceList
	// Logger; default slog.Default().
	Logger *slog.Logger
}

// Setup materialises every volume of in.Pod and returns, by volume name,
// where each lives. It can be called again to apply updates of
// configMap, secret, downwardAPI and projected contents. Volumes that
// failed are missing from the map, and the error names each of them.
func Setup(in SetupInput) (map[string]Dir, error) {
	if in.Pod == nil || in.PodDir == "" {
		return nil, errors.New("volume setup: Pod and PodDir are required")
	}
	if in.Context == nil {
		in.Context = context.Background()
	}
	if in.Logger == nil {
		in.Logger = slog.Default()
	}
	dirs := map[string]Dir{}
	var errs []error
	for i := range in.Pod.Spec.Volumes {
		v := &in.Pod.Spec.Volumes[i]
		d, err := setupVolume(&in, v)
		if err != nil {
			errs = append(errs, fmt.Errorf("volume %q: %w", v.Name, err))
			continue
		}
		dirs[v.Name] = d
	}
	return dirs, errors.Join(errs...)
}

func setupVolume(in *SetupInput, v *corev1.Volume) (Dir, error) {
	src := &v.VolumeSource
	path := func(kind string) string { return filepath.Join(in.PodDir, "volumes", kind, v.Name) }
	switch {
	case src.EmptyDir != nil:
		return setupEmptyDir(in, path(KindEmptyDir), src.EmptyDir)
	case src.HostPath != nil:
		return setupHostPath(src.HostPath)
	case src.ConfigMap != nil:
		return setupAtomic(path(KindConfigMap), func() (map[string]file, error) { return configMapPayload(in, src.ConfigMap) })
	case src.Secret != nil:
		return setupAtomic(path(KindSecret), func() (map[string]file, error) { return secretPayload(in, src.Secret) })
	case src.DownwardAPI != nil:
		return setupAtomic(path(KindDownwardAPI), func() (map[string]file, error) { return downwardPayload(in, src.DownwardAPI) })
	case src.Projected != nil:
		return setupAtomic(path(KindProjected), func() (map[string]file, error) { return projectedPayload(in, src.Projected) })
	default:
		return Dir{}, fmt.Errorf("volume type %s is not supported by rudder's kubelet (supported: emptyDir, hostPath, configMap, secret, downwardAPI, projected)", sourceType(src))
	}
}

// setupAtomic builds a payload and publishes it atomically at dir.
func setupAtomic(dir string, payload func() (map[string]file, error)) (Dir, error) {
	p, err := payload()
	if err != nil {
		return Dir{}, err
	}
	if err := writeAtomic(dir, p); err != nil {
		return Dir{}, fmt.Errorf("write %s: %w", dir, err)
	}
	return Dir{Path: dir, ReadOnly: true}, nil
}

// sourceType names the volume source that is set, by its JSON name.
func sourceType(src *corev1.VolumeSource) string {
	rv := reflect.ValueOf(src).Elem()
	for i := 0; i < rv.NumField(); i++ {
		f := rv.Field(i)
		if f.Kind() == reflect.Pointer && !f.IsNil() {
			name, _, _ := strings.Cut(rv.Type().Field(i).Tag.Get("json"), ",")
			return name
		}
	}
	return "(none set)"
}

// modeOr returns the permission bits *m, or def when m is nil.
func modeOr(m *int32, def int32) os.FileMode {
	if m != nil {
		return os.FileMode(*m) & os.ModePerm
	}
	return os.FileMode(def) & os.ModePerm
}
