package registry

import (
	"fmt"
	"reflect"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// object is what every served type is: a runtime.Object with ObjectMeta.
type object interface {
	runtime.Object
	metav1.Object
}

var metadataPath = field.NewPath("metadata")

// kind is the Strategy of one type T, built from the kind's own rules; the
// common parts (status, generation, object metadata) live here once.
type kind[T object] struct {
	namespaced bool
	name       apivalidation.ValidateNameFunc
	// status: the kind has a status subresource, so status is reset on
	// create (unless keepStatusOnCreate) and kept from old on updates.
	status             bool
	keepStatusOnCreate bool
	// generation: metadata.generation is 1 on create and grows when
	// spec(obj) changes; spec nil compares the Spec field.
	generation bool
	spec       func(T) any

	defaults       func(T)
	create         func(T)          // after the common PrepareForCreate
	update         func(obj, old T) // before the generation check
	validate       func(T) field.ErrorList
	validateUpdate func(obj, old T) field.ErrorList // in addition to validate
	validateStatus func(obj, old T) field.ErrorList // in addition to metadata
}

func (k kind[T]) Default(obj runtime.Object) {
	if t, ok := obj.(T); ok && k.defaults != nil {
		k.defaults(t)
	}
}

func (k kind[T]) PrepareForCreate(obj runtime.Object) {
	t, ok := obj.(T)
	if !ok {
		return
	}
	if k.status && !k.keepStatusOnCreate {
		resetStatus(t)
	}
	if k.generation {
		t.SetGeneration(1)
	}
	if k.create != nil {
		k.create(t)
	}
}

func (k kind[T]) PrepareForUpdate(obj, old runtime.Object) {
	t, ok1 := obj.(T)
	o, ok2 := old.(T)
	if !ok1 || !ok2 {
		return
	}
	t.SetGeneration(o.GetGeneration())
	if k.status {
		keepStatus(t, o)
	}
	if k.update != nil {
		k.update(t, o)
	}
	if k.generation && !apiequality.Semantic.DeepEqual(k.specOf(t), k.specOf(o)) {
		t.SetGeneration(o.GetGeneration() + 1)
	}
}

func (k kind[T]) PrepareForStatusUpdate(obj, old runtime.Object) {
	t, ok1 := obj.(T)
	o, ok2 := old.(T)
	if ok1 && ok2 {
		keepAllButStatus(t, o)
	}
}

func (k kind[T]) Validate(obj runtime.Object) field.ErrorList {
	t, ok := obj.(T)
	if !ok {
		return wrongType(obj)
	}
	errs := apivalidation.ValidateObjectMetaAccessor(t, k.namespaced, k.name, metadataPath)
	if k.validate != nil {
		errs = append(errs, k.validate(t)...)
	}
	return errs
}

func (k kind[T]) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	t, ok1 := obj.(T)
	o, ok2 := old.(T)
	if !ok1 || !ok2 {
		return wrongType(obj)
	}
	errs := apivalidation.ValidateObjectMetaAccessorUpdate(t, o, metadataPath)
	if k.validate != nil {
		errs = append(errs, k.validate(t)...)
	}
	if k.validateUpdate != nil {
		errs = append(errs, k.validateUpdate(t, o)...)
	}
	return errs
}

// ValidateStatusUpdate checks a status update: metadata rules plus the
// kind's status rules. Only meaningful for kinds with status.
func (k kind[T]) ValidateStatusUpdate(obj, old runtime.Object) field.ErrorList {
	t, ok1 := obj.(T)
	o, ok2 := old.(T)
	if !ok1 || !ok2 {
		return wrongType(obj)
	}
	errs := apivalidation.ValidateObjectMetaAccessorUpdate(t, o, metadataPath)
	if k.validateStatus != nil {
		errs = append(errs, k.validateStatus(t, o)...)
	}
	return errs
}

func (k kind[T]) specOf(t T) any {
	if k.spec != nil {
		return k.spec(t)
	}
	return structField(t, "Spec").Interface()
}

func wrongType(obj runtime.Object) field.ErrorList {
	return field.ErrorList{field.InternalError(nil, fmt.Errorf("unexpected object type %T", obj))}
}

// structField returns the named field of the struct obj points to. Every
// kind given a status or spec rule here has that field; a missing one is a
// programming error caught by the tests of strategies().
func structField(obj runtime.Object, name string) reflect.Value {
	return reflect.ValueOf(obj).Elem().FieldByName(name)
}

func resetStatus(obj runtime.Object) {
	f := structField(obj, "Status")
	f.Set(reflect.Zero(f.Type()))
}

func keepStatus(obj, old runtime.Object) {
	structField(obj, "Status").Set(structField(old.DeepCopyObject(), "Status"))
}

// keepAllButStatus turns obj into a copy of old carrying obj's status,
// resourceVersion and managedFields.
func keepAllButStatus[T object](obj, old T) {
	status := structField(obj, "Status").Interface()
	rv, managed := obj.GetResourceVersion(), obj.GetManagedFields()
	reflect.ValueOf(obj).Elem().Set(reflect.ValueOf(old.DeepCopyObject()).Elem())
	structField(obj, "Status").Set(reflect.ValueOf(status))
	obj.SetResourceVersion(rv)
	obj.SetManagedFields(managed)
}

// genericStrategy serves kinds without rules of their own: it checks object
// metadata (names as DNS subdomains) and keeps generation from old.
type genericStrategy struct{ namespaced bool }

func (genericStrategy) Default(runtime.Object)          {}
func (genericStrategy) PrepareForCreate(runtime.Object) {}

func (genericStrategy) PrepareForUpdate(obj, old runtime.Object) {
	if t, ok := obj.(metav1.Object); ok {
		if o, ok := old.(metav1.Object); ok {
			t.SetGeneration(o.GetGeneration())
		}
	}
}

// PrepareForStatusUpdate does nothing: a kind without rules has no status
// subresource.
func (genericStrategy) PrepareForStatusUpdate(obj, old runtime.Object) {}

func (g genericStrategy) Validate(obj runtime.Object) field.ErrorList {
	m, ok := obj.(metav1.Object)
	if !ok {
		return wrongType(obj)
	}
	return apivalidation.ValidateObjectMetaAccessor(m, g.namespaced, apivalidation.NameIsDNSSubdomain, metadataPath)
}

func (genericStrategy) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	m, ok1 := obj.(metav1.Object)
	o, ok2 := old.(metav1.Object)
	if !ok1 || !ok2 {
		return wrongType(obj)
	}
	return apivalidation.ValidateObjectMetaAccessorUpdate(m, o, metadataPath)
}
