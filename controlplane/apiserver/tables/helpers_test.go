package tables

import (
	"reflect"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// now is the fixed time every test measures ages to.
var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) metav1.Time { return metav1.NewTime(now.Add(-d)) }

func agoPtr(d time.Duration) *metav1.Time { t := ago(d); return &t }

func objMeta(name string, created time.Duration) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: "default", CreationTimestamp: ago(created)}
}

func ptr[T any](v T) *T { return &v }

// headerNames lists column names, wide (priority 1) ones marked with "+".
func headerNames(t *metav1.Table) []string {
	out := make([]string, len(t.ColumnDefinitions))
	for i, c := range t.ColumnDefinitions {
		out[i] = c.Name
		if c.Priority == 1 {
			out[i] += "+"
		}
	}
	return out
}

// kindCase is one object converted alone, with the headers and cells it
// must produce.
type kindCase struct {
	name    string
	obj     runtime.Object
	headers []string
	cells   []interface{}
}

func runKindCases(t *testing.T, cases []kindCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			table, err := Convert(tc.obj, Options{Now: now})
			if err != nil {
				t.Fatalf("Convert: %v", err)
			}
			if got := headerNames(table); !reflect.DeepEqual(got, tc.headers) {
				t.Errorf("headers\n got %q\nwant %q", got, tc.headers)
			}
			if len(table.Rows) != 1 {
				t.Fatalf("rows = %d, want 1", len(table.Rows))
			}
			if got := table.Rows[0].Cells; !reflect.DeepEqual(got, tc.cells) {
				t.Errorf("cells\n got %#v\nwant %#v", got, tc.cells)
			}
			if n := len(table.ColumnDefinitions); n != len(table.Rows[0].Cells) {
				t.Errorf("%d columns but %d cells", n, len(table.Rows[0].Cells))
			}
			checkNameColumn(t, table)
		})
	}
}

func checkNameColumn(t *testing.T, table *metav1.Table) {
	t.Helper()
	for _, c := range table.ColumnDefinitions {
		if (c.Name == "Name") != (c.Format == "name") {
			t.Errorf("column %q has format %q", c.Name, c.Format)
		}
		if c.Description == "" {
			t.Errorf("column %q has no description", c.Name)
		}
	}
}
