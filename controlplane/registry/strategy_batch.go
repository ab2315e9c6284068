package registry

import (
	batchv1 "k8s.io/api/batch/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Labels upstream put on a Job's pods before the batch.kubernetes.io ones;
// they are still set for old clients and selectors.
const (
	legacyJobNameLabel       = "job-name"
	legacyControllerUIDLabel = "controller-uid"
)

func jobStrategy() Strategy {
	return kind[*batchv1.Job]{
		namespaced:     true,
		name:           apivalidation.NameIsDNSSubdomain,
		status:         true,
		generation:     true,
		defaults:       defaultJob,
		create:         generateJobSelector,
		validate:       validateJob,
		validateUpdate: validateJobUpdate,
	}
}

// generateJobSelector gives a Job without manualSelector the labels
// job-name and controller-uid (both legacy and batch.kubernetes.io/ forms)
// on its template and a selector on batch.kubernetes.io/controller-uid.
// It needs metadata.uid: without one it does nothing, and validation then
// rejects the Job.
func generateJobSelector(job *batchv1.Job) {
	if job.Spec.ManualSelector != nil && *job.Spec.ManualSelector || job.UID == "" {
		return
	}
	tl := &job.Spec.Template.Labels
	for _, k := range []string{legacyJobNameLabel, batchv1.JobNameLabel} {
		setIfAbsent(tl, k, job.Name)
	}
	for _, k := range []string{legacyControllerUIDLabel, batchv1.ControllerUidLabel} {
		setIfAbsent(tl, k, string(job.UID))
	}
	if job.Spec.Selector == nil {
		job.Spec.Selector = &metav1.LabelSelector{}
	}
	setIfAbsent(&job.Spec.Selector.MatchLabels, batchv1.ControllerUidLabel, string(job.UID))
}

func setIfAbsent(m *map[string]string, k, v string) {
	if *m == nil {
		*m = map[string]string{}
	}
	if _, ok := (*m)[k]; !ok {
		(*m)[k] = v
	}
}

func cronJobStrategy() Strategy {
	return kind[*batchv1.CronJob]{
		namespaced: true,
		name:       apivalidation.NameIsDNSSubdomain,
		status:     true,
		generation: true,
		defaults:   defaultCronJob,
		validate:   validateCronJob,
	}
}
