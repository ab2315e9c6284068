// Package tables turns served objects into metav1.Table answers, the form
// kubectl asks for with `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`.
// Columns and cells follow the upstream kube-apiserver printers
// (pkg/printers/internalversion) so that `kubectl get` and `kubectl get -o
// wide` print what they print against a real cluster. Like the upstream
// server, every table carries the wide (priority 1) columns too; kubectl
// hides them unless asked for -o wide.
package tables

import (
	"errors"
	"fmt"
	"reflect"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ErrNotAcceptable says the object cannot be shown as a table (it has no
// object metadata); the apiserver answers 406 Not Acceptable.
var ErrNotAcceptable = errors.New("cannot be converted to a Table")

// ErrBadIncludeObject says Options.IncludeObject holds an unknown policy;
// the apiserver answers 400 Bad Request.
var ErrBadIncludeObject = errors.New("unrecognized includeObject value")

// Options mirror metav1.TableOptions plus the time used for ages.
type Options struct {
	// NoHeaders leaves out the column definitions.
	NoHeaders bool
	// IncludeObject says what each row's Object holds: nothing (None), a
	// PartialObjectMetadata (Metadata, the default when empty) or the
	// object itself (Object).
	IncludeObject metav1.IncludeObjectPolicy
	// Now is the time ages and durations are measured to; zero means
	// time.Now().
	Now time.Time
}

// Convert turns one typed object (e.g. *corev1.Pod) or a typed list
// (*corev1.PodList) into a Table. Row.Object holds, per IncludeObject,
// nothing, a metav1.PartialObjectMetadata (meta.k8s.io/v1) or the full
// object with its apiVersion and kind set, as a runtime.RawExtension whose
// Object the caller serializes. For a list, the Table's ListMeta copies the
// list's resourceVersion, continue and remainingItemCount; for a single
// object, its resourceVersion.
func Convert(obj runtime.Object, opts Options) (*metav1.Table, error) {
	if obj == nil {
		return nil, fmt.Errorf("tables: nil object: %w", ErrNotAcceptable)
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	items, p, err := itemsOf(obj)
	if err != nil {
		return nil, err
	}
	table := &metav1.Table{TypeMeta: metav1.TypeMeta{APIVersion: metav1.SchemeGroupVersion.String(), Kind: "Table"}}
	if !opts.NoHeaders {
		table.ColumnDefinitions = p.columns
	}
	table.Rows = make([]metav1.TableRow, 0, len(items))
	for _, item := range items {
		row, err := rowOf(item, p, opts)
		if err != nil {
			return nil, err
		}
		table.Rows = append(table.Rows, row)
	}
	copyListMeta(obj, &table.ListMeta)
	return table, nil
}

// itemsOf returns the objects to print (the list's items or the object
// itself) and the printer for their type.
func itemsOf(obj runtime.Object) ([]runtime.Object, printer, error) {
	if !meta.IsListType(obj) {
		return []runtime.Object{obj}, printerFor(obj), nil
	}
	items, err := meta.ExtractList(obj)
	if err != nil {
		return nil, printer{}, fmt.Errorf("tables: items of %T: %w", obj, err)
	}
	return items, printerFor(itemPrototype(obj, items)), nil
}

// itemPrototype returns an object of the list's item type, so that an
// empty list still gets the right columns.
func itemPrototype(list runtime.Object, items []runtime.Object) runtime.Object {
	if len(items) > 0 {
		return items[0]
	}
	v := reflect.ValueOf(list)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	f := v.Elem().FieldByName("Items")
	if !f.IsValid() || f.Kind() != reflect.Slice {
		return nil
	}
	if o, ok := reflect.New(f.Type().Elem()).Interface().(runtime.Object); ok {
		return o
	}
	return nil
}

func rowOf(item runtime.Object, p printer, opts Options) (metav1.TableRow, error) {
	m, err := meta.Accessor(item)
	if err != nil {
		return metav1.TableRow{}, fmt.Errorf("tables: %T: %w", item, ErrNotAcceptable)
	}
	row := metav1.TableRow{Cells: p.cells(item, m, opts.Now)}
	if p.conditions != nil {
		row.Conditions = p.conditions(item)
	}
	row.Object, err = rowObject(item, m, p.gvk, opts.IncludeObject)
	if err != nil {
		return metav1.TableRow{}, err
	}
	return row, nil
}

// rowObject applies the IncludeObject policy the way the upstream
// apiserver does after the table is built.
func rowObject(item runtime.Object, m metav1.Object, gvk schema.GroupVersionKind, policy metav1.IncludeObjectPolicy) (runtime.RawExtension, error) {
	switch policy {
	case metav1.IncludeNone:
		return runtime.RawExtension{}, nil
	case metav1.IncludeMetadata, "":
		partial := meta.AsPartialObjectMetadata(m)
		partial.SetGroupVersionKind(metav1.SchemeGroupVersion.WithKind("PartialObjectMetadata"))
		return runtime.RawExtension{Object: partial}, nil
	case metav1.IncludeObject:
		return runtime.RawExtension{Object: withKind(item, gvk)}, nil
	default:
		return runtime.RawExtension{}, fmt.Errorf("tables: %q: %w", policy, ErrBadIncludeObject)
	}
}

// withKind returns the object with apiVersion and kind set, as a serialized
// row object needs them (kubectl decodes rows as unstructured). The caller's
// object is copied, not changed.
func withKind(obj runtime.Object, gvk schema.GroupVersionKind) runtime.Object {
	if gvk.Empty() || !obj.GetObjectKind().GroupVersionKind().Empty() {
		return obj
	}
	out := obj.DeepCopyObject()
	out.GetObjectKind().SetGroupVersionKind(gvk)
	return out
}

func copyListMeta(obj runtime.Object, into *metav1.ListMeta) {
	if l, err := meta.ListAccessor(obj); err == nil {
		into.ResourceVersion = l.GetResourceVersion()
		into.Continue = l.GetContinue()
		into.RemainingItemCount = l.GetRemainingItemCount()
		return
	}
	if c, err := meta.CommonAccessor(obj); err == nil {
		into.ResourceVersion = c.GetResourceVersion()
	}
}
