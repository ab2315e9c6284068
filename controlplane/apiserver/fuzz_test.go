package apiserver

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzCreate sends arbitrary bodies through decode, defaulting,
// validation and admission (dry run, so nothing is stored). Whatever comes
// in, the answer is a client error or success, never a 5xx or a panic.
func FuzzCreate(f *testing.F) {
	seeds := []string{
		`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"i","ports":[{"containerPort":80}]}]}}`,
		`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}`,
		`{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"type":"NodePort","ports":[{"port":80,"nodePort":30080}]}}`,
		`{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"clusterIP":"None","ports":[{"port":-1}]}}`,
		`{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"c"},"spec":{"schedule":"*/5 * * * *","jobTemplate":{"spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"i"}]}}}}}}`,
		`{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"i"},"spec":{"rules":[{"host":"*.a.b","http":{"paths":[{"path":"/x","pathType":"Prefix","backend":{"service":{"name":"s","port":{"number":80}}}}]}}]}}`,
		`{"metadata":{"name":null,"labels":{"":"x"}},"spec":[]}`,
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: 1}\n",
		"\x0a\x0b\x0c\x00",
		`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"i","resources":{"limits":{"cpu":"1x"}}}]}}`,
	}
	paths := []string{
		"/api/v1/namespaces/default/pods", "/apis/apps/v1/namespaces/default/deployments",
		"/api/v1/namespaces/default/services", "/apis/batch/v1/namespaces/default/cronjobs",
		"/apis/networking.k8s.io/v1/namespaces/default/ingresses", "/api/v1/namespaces/default/configmaps",
		"/api/v1/nodes", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices",
	}
	types := []string{"application/json", "application/yaml", protobufType}
	for i, s := range seeds {
		f.Add([]byte(s), uint8(i), uint8(0))
	}
	ts := newTestServer(f)
	h := ts.api.Handler()
	f.Fuzz(func(t *testing.T, body []byte, pathIdx, typeIdx uint8) {
		path := paths[int(pathIdx)%len(paths)] + "?dryRun=All&fieldValidation=Strict"
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", types[int(typeIdx)%len(types)])
		req.Header.Set("Authorization", "Bearer "+testToken)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("POST %s (%s) answered %d: %s", path, req.Header.Get("Content-Type"), rec.Code, rec.Body)
		}
	})
}
