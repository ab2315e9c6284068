package proxier

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
)

// triggerTimes remembers each EndpointSlice's last-change-trigger-time
// as of the last successful sync, to measure network programming
// latency once per change.
type triggerTimes map[types.NamespacedName]string

// observe returns the trigger times as of slices and, for every slice
// whose annotation differs from the one already seen, the delay from it
// to now. The first call (seen == nil) only records: at start-up the
// annotations are as old as the slices.
func (seen triggerTimes) observe(slices []*discoveryv1.EndpointSlice, now time.Time) (triggerTimes, []time.Duration) {
	next := triggerTimes{}
	var delays []time.Duration
	for _, s := range slices {
		v, ok := s.Annotations[corev1.EndpointsLastChangeTriggerTime]
		if !ok {
			continue
		}
		key := types.NamespacedName{Namespace: s.Namespace, Name: s.Name}
		next[key] = v
		if seen == nil || seen[key] == v {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil || t.After(now) {
			continue
		}
		delays = append(delays, now.Sub(t))
	}
	return next, delays
}
