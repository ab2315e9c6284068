package serviceview

import (
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/tools/cache"
)

// handler signals a change on every add and delete, and on updates that
// change the object (a resync redelivers the same resourceVersion).
func (v *View) handler() cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { v.notify() },
		UpdateFunc: func(old, cur any) {
			if sameVersion(old, cur) {
				return
			}
			v.notify()
		},
		DeleteFunc: func(any) { v.notify() },
	}
}

func sameVersion(a, b any) bool {
	ma, err := meta.Accessor(a)
	if err != nil {
		return false
	}
	mb, err := meta.Accessor(b)
	if err != nil {
		return false
	}
	return ma.GetResourceVersion() != "" && ma.GetResourceVersion() == mb.GetResourceVersion()
}
