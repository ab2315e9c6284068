package tables

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

// listMax is how many items a "a,b,c + N more..." cell shows.
const listMax = 3

func objectMetaDoc(field string) string { return metav1.ObjectMeta{}.SwaggerDoc()[field] }

func column(name, typ, description string) metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: name, Type: typ, Description: description}
}

// wide marks a column as shown only by -o wide.
func wide(c metav1.TableColumnDefinition) metav1.TableColumnDefinition {
	c.Priority = 1
	return c
}

func nameColumn() metav1.TableColumnDefinition {
	c := column("Name", "string", objectMetaDoc("name"))
	c.Format = "name"
	return c
}

func ageColumn() metav1.TableColumnDefinition {
	return column("Age", "string", objectMetaDoc("creationTimestamp"))
}

// templateColumns are the wide CONTAINERS and IMAGES columns of workloads.
func templateColumns() []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		wide(column("Containers", "string", "Names of each container in the template.")),
		wide(column("Images", "string", "Images referenced by each container in the template.")),
	}
}

func columns(groups ...[]metav1.TableColumnDefinition) []metav1.TableColumnDefinition {
	var out []metav1.TableColumnDefinition
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// age is the human duration since t, or "<unknown>" when t is unset.
func age(t metav1.Time, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

func microAge(t metav1.MicroTime, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

// containerCells joins container names and images with commas.
func containerCells(containers []corev1.Container) (names, images string) {
	n := make([]string, len(containers))
	im := make([]string, len(containers))
	for i, c := range containers {
		n[i], im[i] = c.Name, c.Image
	}
	return strings.Join(n, ","), strings.Join(im, ",")
}

// moreList joins the first listMax of total items and says how many more
// there are.
func moreList(shown []string, total int) string {
	s := strings.Join(shown, ",")
	if total > len(shown) {
		return fmt.Sprintf("%s + %d more...", s, total-len(shown))
	}
	return s
}

// appendCapped appends s unless the list already holds listMax items.
func appendCapped(list []string, s string) []string {
	if len(list) < listMax {
		return append(list, s)
	}
	return list
}

// lbAddresses lists the unique, sorted IPs (or hostnames) of load-balancer
// ingress points. Upstream clips them to 16 bytes only for client-side
// narrow output; the server always builds the wide form, and so do we.
func lbAddresses(addrs []string) string {
	set := map[string]bool{}
	for _, a := range addrs {
		if a != "" {
			set[a] = true
		}
	}
	list := make([]string, 0, len(set))
	for a := range set {
		list = append(list, a)
	}
	sort.Strings(list)
	return strings.Join(list, ",")
}

func boolPtr(b *bool) string {
	switch {
	case b == nil:
		return "<unset>"
	case *b:
		return "True"
	default:
		return "False"
	}
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

func derefInt32(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}
