package volumes

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// lookupConfigMap returns the config map, nil when it is missing and
// optional, or an error when it is missing and required.
func lookupConfigMap(in *SetupInput, name string, optional *bool) (*corev1.ConfigMap, error) {
	if in.ConfigMap == nil {
		return nil, fmt.Errorf("configmap %q: no configmap source configured", name)
	}
	cm, err := in.ConfigMap(in.Pod.Namespace, name)
	if missing(cm == nil, err) {
		if optional != nil && *optional {
			return nil, nil
		}
		return nil, fmt.Errorf("configmap %q not found in namespace %q", name, in.Pod.Namespace)
	}
	if err != nil {
		return nil, fmt.Errorf("get configmap %s/%s: %w", in.Pod.Namespace, name, err)
	}
	return cm, nil
}

// lookupSecret is lookupConfigMap for secrets.
func lookupSecret(in *SetupInput, name string, optional *bool) (*corev1.Secret, error) {
	if in.Secret == nil {
		return nil, fmt.Errorf("secret %q: no secret source configured", name)
	}
	s, err := in.Secret(in.Pod.Namespace, name)
	if missing(s == nil, err) {
		if optional != nil && *optional {
			return nil, nil
		}
		return nil, fmt.Errorf("secret %q not found in namespace %q", name, in.Pod.Namespace)
	}
	if err != nil {
		return nil, fmt.Errorf("get secret %s/%s: %w", in.Pod.Namespace, name, err)
	}
	return s, nil
}

func missing(isNil bool, err error) bool {
	return apierrors.IsNotFound(err) || (err == nil && isNil)
}

// keyPayload maps an object's data to files: every key with defaultMode
// when items is empty, else only the listed keys at their paths. A
// listed key that is missing is an error unless the volume is optional.
func keyPayload(out map[string]file, what string, data map[string][]byte, items []corev1.KeyToPath, defMode int32, optional *bool) error {
	if len(items) == 0 {
		for k, v := range data {
			out[k] = file{Data: v, Mode: modeOr(nil, defMode)}
		}
		return nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			if optional != nil && *optional {
				continue
			}
			return fmt.Errorf("%s references non-existent %s key: %s", what, keyWord(what), it.Key)
		}
		out[it.Path] = file{Data: v, Mode: modeOr(it.Mode, defMode)}
	}
	return nil
}

func keyWord(what string) string {
	if what == "secret" {
		return "secret"
	}
	return "config"
}

func configMapData(cm *corev1.ConfigMap) map[string][]byte {
	data := make(map[string][]byte, len(cm.Data)+len(cm.BinaryData))
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	return data
}

func defMode(m *int32) int32 {
	if m != nil {
		return *m
	}
	return DefaultMode
}

func configMapPayload(in *SetupInput, src *corev1.ConfigMapVolumeSource) (map[string]file, error) {
	out := map[string]file{}
	cm, err := lookupConfigMap(in, src.Name, src.Optional)
	if err != nil || cm == nil {
		return out, err
	}
	return out, keyPayload(out, "configmap", configMapData(cm), src.Items, defMode(src.DefaultMode), src.Optional)
}

func secretPayload(in *SetupInput, src *corev1.SecretVolumeSource) (map[string]file, error) {
	out := map[string]file{}
	s, err := lookupSecret(in, src.SecretName, src.Optional)
	if err != nil || s == nil {
		return out, err
	}
	return out, keyPayload(out, "secret", s.Data, src.Items, defMode(src.DefaultMode), src.Optional)
}

func downwardPayload(in *SetupInput, src *corev1.DownwardAPIVolumeSource) (map[string]file, error) {
	out := map[string]file{}
	return out, downwardFiles(in, out, src.Items, defMode(src.DefaultMode))
}

func downwardFiles(in *SetupInput, out map[string]file, items []corev1.DownwardAPIVolumeFile, def int32) error {
	for _, it := range items {
		v, err := downwardValue(in, &it)
		if err != nil {
			return fmt.Errorf("downwardAPI file %q: %w", it.Path, err)
		}
		out[it.Path] = file{Data: []byte(v), Mode: modeOr(it.Mode, def)}
	}
	return nil
}

// projectedPayload merges the sources in order; a later source wins a
// path both write.
func projectedPayload(in *SetupInput, src *corev1.ProjectedVolumeSource) (map[string]file, error) {
	out := map[string]file{}
	def := defMode(src.DefaultMode)
	for i, s := range src.Sources {
		if err := projectSource(in, out, &s, def); err != nil {
			return nil, fmt.Errorf("projected source %d: %w", i, err)
		}
	}
	return out, nil
}

func projectSource(in *SetupInput, out map[string]file, s *corev1.VolumeProjection, def int32) error {
	switch {
	case s.ConfigMap != nil:
		cm, err := lookupConfigMap(in, s.ConfigMap.Name, s.ConfigMap.Optional)
		if err != nil || cm == nil {
			return err
		}
		return keyPayload(out, "configmap", configMapData(cm), s.ConfigMap.Items, def, s.ConfigMap.Optional)
	case s.Secret != nil:
		sec, err := lookupSecret(in, s.Secret.Name, s.Secret.Optional)
		if err != nil || sec == nil {
			return err
		}
		return keyPayload(out, "secret", sec.Data, s.Secret.Items, def, s.Secret.Optional)
	case s.DownwardAPI != nil:
		return downwardFiles(in, out, s.DownwardAPI.Items, def)
	case s.ServiceAccountToken != nil:
		return projectToken(in, out, s.ServiceAccountToken, def)
	case s.ClusterTrustBundle != nil:
		return fmt.Errorf("clusterTrustBundle projection is not supported by rudder's kubelet")
	case s.PodCertificate != nil:
		return fmt.Errorf("podCertificate projection is not supported by rudder's kubelet")
	default:
		return fmt.Errorf("projection sets no source")
	}
}

func projectToken(in *SetupInput, out map[string]file, t *corev1.ServiceAccountTokenProjection, def int32) error {
	if in.Token == nil {
		return fmt.Errorf("serviceAccountToken %q: no token source configured for the kubelet", t.Path)
	}
	exp := DefaultTokenExpirationSec
	if t.ExpirationSeconds != nil {
		exp = *t.ExpirationSeconds
	}
	tok, err := in.Token(in.Context, in.Pod, t.Audience, exp)
	if err != nil {
		return fmt.Errorf("serviceAccountToken %q: request token for audience %q: %w", t.Path, t.Audience, err)
	}
	out[t.Path] = file{Data: []byte(tok), Mode: modeOr(nil, def)}
	return nil
}
