package registry

import (
	"fmt"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Upstream's limit: a CronJob's name plus the 11-character suffix of its
// Jobs must fit a label value.
const maxCronJobNameLength = 52

var (
	supportedJobRestartPolicies = []string{"Never", "OnFailure"}
	supportedCompletionModes    = []string{"Indexed", "NonIndexed"}
	supportedConcurrencyPolicy  = []string{"Allow", "Forbid", "Replace"}
)

func validateJob(job *batchv1.Job) field.ErrorList {
	errs := validateJobSpec(&job.Spec, specPath)
	if job.Spec.Selector == nil {
		errs = append(errs, field.Required(specPath.Child("selector"), ""))
	} else {
		errs = append(errs, validateStrictSelector(job.Spec.Selector, specPath.Child("selector"))...)
		errs = append(errs, validateJobSelectorMatch(job)...)
	}
	return append(errs, validateGeneratedSelector(job)...)
}

func validateJobSelectorMatch(job *batchv1.Job) field.ErrorList {
	sel, err := metav1.LabelSelectorAsSelector(job.Spec.Selector)
	if err != nil {
		return field.ErrorList{field.Invalid(specPath.Child("selector"), job.Spec.Selector, "invalid label selector")}
	}
	if !sel.Matches(labels.Set(job.Spec.Template.Labels)) {
		return field.ErrorList{field.Invalid(specPath.Child("template", "metadata", "labels"), job.Spec.Template.Labels, selectorMismatch)}
	}
	return nil
}

// validateGeneratedSelector: without manualSelector the selector must be
// exactly the one PrepareForCreate generated from the Job's uid.
func validateGeneratedSelector(job *batchv1.Job) field.ErrorList {
	if job.Spec.ManualSelector != nil && *job.Spec.ManualSelector {
		return nil
	}
	lp := specPath.Child("template", "metadata", "labels")
	uid := string(job.UID)
	if job.Spec.Template.Labels[batchv1.ControllerUidLabel] != uid {
		return field.ErrorList{field.Invalid(lp.Key(batchv1.ControllerUidLabel), job.Spec.Template.Labels[batchv1.ControllerUidLabel],
			"must be '"+uid+"'")}
	}
	if job.Spec.Template.Labels[batchv1.JobNameLabel] != job.Name {
		return field.ErrorList{field.Invalid(lp.Key(batchv1.JobNameLabel), job.Spec.Template.Labels[batchv1.JobNameLabel],
			"must be '"+job.Name+"'")}
	}
	if s := job.Spec.Selector; s != nil && (len(s.MatchExpressions) > 0 || len(s.MatchLabels) != 1 || s.MatchLabels[batchv1.ControllerUidLabel] != uid) {
		return field.ErrorList{field.Invalid(specPath.Child("selector"), s, "`selector` not auto-generated")}
	}
	return nil
}

// validateJobSpec checks what a Job and a CronJob's job template share.
func validateJobSpec(spec *batchv1.JobSpec, path *field.Path) field.ErrorList {
	errs := nonNegativePtr(spec.Parallelism, path.Child("parallelism"))
	errs = append(errs, nonNegativePtr(spec.Completions, path.Child("completions"))...)
	errs = append(errs, nonNegativePtr(spec.ActiveDeadlineSeconds, path.Child("activeDeadlineSeconds"))...)
	errs = append(errs, nonNegativePtr(spec.BackoffLimit, path.Child("backoffLimit"))...)
	errs = append(errs, nonNegativePtr(spec.TTLSecondsAfterFinished, path.Child("ttlSecondsAfterFinished"))...)
	if spec.CompletionMode != nil {
		errs = append(errs, requiredEnum(*spec.CompletionMode, supportedCompletionModes, path.Child("completionMode"))...)
		if *spec.CompletionMode == batchv1.IndexedCompletion && spec.Completions == nil {
			errs = append(errs, field.Required(path.Child("completions"), "when completion mode is Indexed"))
		}
	}
	tp := path.Child("template")
	errs = append(errs, validatePodTemplate(&spec.Template, nil, tp)...)
	if rp := spec.Template.Spec.RestartPolicy; rp != corev1.RestartPolicyOnFailure && rp != corev1.RestartPolicyNever {
		errs = append(errs, field.NotSupported(tp.Child("spec", "restartPolicy"), rp, supportedJobRestartPolicies))
	}
	return errs
}

// validateJobUpdate: selector, completion mode and (unless the Job is
// suspended and never started) the pod template are immutable; completions
// may change only for Indexed Jobs keeping completions == parallelism.
func validateJobUpdate(job, old *batchv1.Job) field.ErrorList {
	errs := immutable(job.Spec.Selector, old.Spec.Selector, specPath.Child("selector"))
	errs = append(errs, immutable(job.Spec.CompletionMode, old.Spec.CompletionMode, specPath.Child("completionMode"))...)
	errs = append(errs, immutable(job.Spec.PodFailurePolicy, old.Spec.PodFailurePolicy, specPath.Child("podFailurePolicy"))...)
	if !elasticIndexed(job) {
		errs = append(errs, immutable(job.Spec.Completions, old.Spec.Completions, specPath.Child("completions"))...)
	}
	tmpl := job.Spec.Template.DeepCopy()
	if old.Spec.Suspend != nil && *old.Spec.Suspend && old.Status.StartTime == nil {
		// scheduling directives may change before the first start
		tmpl.Labels, tmpl.Annotations = old.Spec.Template.Labels, old.Spec.Template.Annotations
		tmpl.Spec.NodeSelector, tmpl.Spec.Affinity = old.Spec.Template.Spec.NodeSelector, old.Spec.Template.Spec.Affinity
		tmpl.Spec.Tolerations, tmpl.Spec.SchedulingGates = old.Spec.Template.Spec.Tolerations, old.Spec.Template.Spec.SchedulingGates
	}
	return append(errs, immutable(*tmpl, old.Spec.Template, specPath.Child("template"))...)
}

func elasticIndexed(job *batchv1.Job) bool {
	s := &job.Spec
	return s.CompletionMode != nil && *s.CompletionMode == batchv1.IndexedCompletion &&
		s.Completions != nil && s.Parallelism != nil && *s.Completions == *s.Parallelism
}

func validateCronJob(cj *batchv1.CronJob) field.ErrorList {
	var errs field.ErrorList
	if len(cj.Name) > maxCronJobNameLength {
		errs = append(errs, field.Invalid(metadataPath.Child("name"), cj.Name, fmt.Sprintf("must be no more than %d characters", maxCronJobNameLength)))
	}
	spec := &cj.Spec
	errs = append(errs, validateSchedule(spec.Schedule, spec.TimeZone, specPath)...)
	errs = append(errs, requiredEnum(spec.ConcurrencyPolicy, supportedConcurrencyPolicy, specPath.Child("concurrencyPolicy"))...)
	errs = append(errs, nonNegativePtr(spec.StartingDeadlineSeconds, specPath.Child("startingDeadlineSeconds"))...)
	errs = append(errs, nonNegativePtr(spec.SuccessfulJobsHistoryLimit, specPath.Child("successfulJobsHistoryLimit"))...)
	errs = append(errs, nonNegativePtr(spec.FailedJobsHistoryLimit, specPath.Child("failedJobsHistoryLimit"))...)
	return append(errs, validateJobTemplate(&spec.JobTemplate, specPath.Child("jobTemplate"))...)
}

func validateSchedule(schedule string, tz *string, path *field.Path) field.ErrorList {
	sp := path.Child("schedule")
	if schedule == "" {
		return field.ErrorList{field.Required(sp, "")}
	}
	var errs field.ErrorList
	if strings.Contains(schedule, "TZ") {
		errs = append(errs, field.Invalid(sp, schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
	} else if _, err := ParseCronSchedule(schedule); err != nil {
		errs = append(errs, field.Invalid(sp, schedule, err.Error()))
	}
	if tz != nil {
		if _, err := time.LoadLocation(*tz); err != nil || *tz == "" || strings.EqualFold(*tz, "local") {
			errs = append(errs, field.Invalid(path.Child("timeZone"), *tz, "unknown time zone "+*tz))
		}
	}
	return errs
}

// validateJobTemplate: the Job spec rules, with the selector left for the
// Job's creation to generate.
func validateJobTemplate(t *batchv1.JobTemplateSpec, path *field.Path) field.ErrorList {
	sp := path.Child("spec")
	errs := validateLabels(t.Labels, path.Child("metadata", "labels"))
	errs = append(errs, validateJobSpec(&t.Spec, sp)...)
	if t.Spec.Selector != nil {
		errs = append(errs, field.Invalid(sp.Child("selector"), t.Spec.Selector, "`selector` will be auto-generated"))
	}
	if t.Spec.ManualSelector != nil && *t.Spec.ManualSelector {
		errs = append(errs, field.NotSupported(sp.Child("manualSelector"), t.Spec.ManualSelector, []string{"nil", "false"}))
	}
	return errs
}
