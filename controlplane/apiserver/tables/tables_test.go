package tables

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func podList(names ...string) *corev1.PodList {
	list := &corev1.PodList{ListMeta: metav1.ListMeta{ResourceVersion: "4711", Continue: "next-token", RemainingItemCount: ptr(int64(7))}}
	for _, n := range names {
		p := pod(corev1.PodRunning, running("app", 0, 0))
		p.Name, p.ResourceVersion, p.Labels = n, "1", map[string]string{"app": "web"}
		list.Items = append(list.Items, *p)
	}
	return list
}

func TestListGivesOneRowPerItemAndKeepsListMeta(t *testing.T) {
	list := podList("web-a", "web-b", "web-c")
	table, err := Convert(list, Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if table.APIVersion != "meta.k8s.io/v1" || table.Kind != "Table" {
		t.Errorf("type meta = %+v", table.TypeMeta)
	}
	if !reflect.DeepEqual(headerNames(table), podHeaders) {
		t.Errorf("headers %q", headerNames(table))
	}
	var names []interface{}
	for _, r := range table.Rows {
		names = append(names, r.Cells[0])
	}
	if want := []interface{}{"web-a", "web-b", "web-c"}; !reflect.DeepEqual(names, want) {
		t.Errorf("row names %v, want %v", names, want)
	}
	if !reflect.DeepEqual(table.ListMeta, list.ListMeta) {
		t.Errorf("list meta %+v, want %+v", table.ListMeta, list.ListMeta)
	}
}

func TestEmptyListKeepsColumns(t *testing.T) {
	for _, list := range []runtime.Object{&corev1.PodList{}, &appsv1.DeploymentList{}, &corev1.PodTemplateList{}} {
		table, err := Convert(list, Options{Now: now})
		if err != nil {
			t.Fatalf("%T: %v", list, err)
		}
		if len(table.Rows) != 0 || table.Rows == nil {
			t.Errorf("%T: rows %#v, want an empty, non-nil slice", list, table.Rows)
		}
		want := printerFor(itemPrototype(list, nil)).columns
		if len(table.ColumnDefinitions) < 2 || !reflect.DeepEqual(table.ColumnDefinitions, want) {
			t.Errorf("%T: columns %q", list, headerNames(table))
		}
	}
	table, _ := Convert(&appsv1.DeploymentList{}, Options{})
	if got := headerNames(table)[1]; got != "Ready" {
		t.Errorf("empty deployment list second column %q, want Ready", got)
	}
}

func TestSingleObjectResourceVersion(t *testing.T) {
	p := pod(corev1.PodRunning)
	p.ResourceVersion = "99"
	table, err := Convert(p, Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if table.ResourceVersion != "99" || table.Continue != "" || table.RemainingItemCount != nil {
		t.Errorf("list meta %+v", table.ListMeta)
	}
}

func TestNoHeaders(t *testing.T) {
	table, err := Convert(podList("a"), Options{Now: now, NoHeaders: true})
	if err != nil {
		t.Fatal(err)
	}
	if table.ColumnDefinitions != nil || len(table.Rows) != 1 || len(table.Rows[0].Cells) != len(podHeaders) {
		t.Errorf("columns %v, rows %d", table.ColumnDefinitions, len(table.Rows))
	}
}

func TestIncludeObject(t *testing.T) {
	list := podList("a")
	for _, policy := range []metav1.IncludeObjectPolicy{"", metav1.IncludeMetadata} {
		table, err := Convert(list, Options{Now: now, IncludeObject: policy})
		if err != nil {
			t.Fatal(err)
		}
		partial, ok := table.Rows[0].Object.Object.(*metav1.PartialObjectMetadata)
		if !ok {
			t.Fatalf("%q: row object %T", policy, table.Rows[0].Object.Object)
		}
		if partial.APIVersion != "meta.k8s.io/v1" || partial.Kind != "PartialObjectMetadata" || partial.Name != "a" || partial.Labels["app"] != "web" {
			t.Errorf("%q: partial %+v", policy, partial)
		}
	}

	table, err := Convert(list, Options{Now: now, IncludeObject: metav1.IncludeNone})
	if err != nil || table.Rows[0].Object.Object != nil {
		t.Errorf("None: object %v, err %v", table.Rows[0].Object.Object, err)
	}

	table, err = Convert(list, Options{Now: now, IncludeObject: metav1.IncludeObject})
	if err != nil {
		t.Fatal(err)
	}
	full, ok := table.Rows[0].Object.Object.(*corev1.Pod)
	if !ok || full.Name != "a" || full.GroupVersionKind() != corev1.SchemeGroupVersion.WithKind("Pod") {
		t.Errorf("Object: row object %T %+v", table.Rows[0].Object.Object, full)
	}
	if !list.Items[0].GroupVersionKind().Empty() {
		t.Error("Convert changed the caller's object")
	}

	if _, err := Convert(list, Options{IncludeObject: "Everything"}); !errors.Is(err, ErrBadIncludeObject) {
		t.Errorf("bad policy: err %v", err)
	}
}

func TestIncludeObjectKeepsSetKind(t *testing.T) {
	p := pod(corev1.PodRunning)
	gvk := schema.GroupVersionKind{Version: "v1", Kind: "Pod"}
	p.SetGroupVersionKind(gvk)
	table, err := Convert(p, Options{Now: now, IncludeObject: metav1.IncludeObject})
	if err != nil {
		t.Fatal(err)
	}
	if table.Rows[0].Object.Object != p {
		t.Error("an object with its kind set should be passed through as is")
	}
}

func TestNotAcceptable(t *testing.T) {
	for _, obj := range []runtime.Object{nil, &metav1.Status{}, &metav1.Table{}} {
		if _, err := Convert(obj, Options{}); !errors.Is(err, ErrNotAcceptable) {
			t.Errorf("%T: err %v, want ErrNotAcceptable", obj, err)
		}
	}
}

func TestZeroNowUsesClock(t *testing.T) {
	p := pod(corev1.PodRunning)
	p.CreationTimestamp = metav1.NewTime(time.Now().Add(-90 * time.Second))
	table, err := Convert(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := table.Rows[0].Cells[4]; got != "90s" && got != "91s" {
		t.Errorf("age %v, want about 90s", got)
	}
}

func TestTableJSON(t *testing.T) {
	table, err := Convert(podList("a"), Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(table)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{
		`"kind":"Table"`, `"apiVersion":"meta.k8s.io/v1"`, `"resourceVersion":"4711"`, `"continue":"next-token"`,
		`"remainingItemCount":7`, `{"name":"Name","type":"string","format":"name"`, `"priority":1`,
		`"cells":["a","1/1","Running","0","3d","10.244.1.5","node-1","\u003cnone\u003e","\u003cnone\u003e"]`,
		`"object":{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"a"`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("JSON lacks %s\n%s", want, s)
		}
	}
}
