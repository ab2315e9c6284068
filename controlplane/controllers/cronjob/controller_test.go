package cronjob

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	testingclock "k8s.io/utils/clock/testing"
)

const ns = "default"

var t0 = time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC)

// newClient returns a fake clientset that, like the apiserver, fills in uid
// and creationTimestamp on create and writes only the status on a status
// update.
func newClient(objs ...runtime.Object) *fake.Clientset {
	c := fake.NewClientset(objs...)
	var rv atomic.Int64
	c.PrependReactor("create", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		obj, ok := a.(k8stesting.CreateAction).GetObject().(metav1.Object)
		if !ok {
			return false, nil, nil
		}
		if obj.GetName() == "" && obj.GetGenerateName() != "" {
			obj.SetName(obj.GetGenerateName() + rand.String(5))
		}
		if obj.GetUID() == "" {
			obj.SetUID(types.UID("uid-" + rand.String(8)))
		}
		obj.SetCreationTimestamp(metav1.Now())
		return false, nil, nil
	})
	c.PrependReactor("update", "cronjobs", func(a k8stesting.Action) (bool, runtime.Object, error) {
		u := a.(k8stesting.UpdateAction)
		if u.GetSubresource() != "status" {
			return false, nil, nil
		}
		in := u.GetObject().(*batchv1.CronJob)
		cur, err := c.Tracker().Get(u.GetResource(), in.Namespace, in.Name)
		if err != nil {
			return true, nil, err
		}
		out := cur.(*batchv1.CronJob).DeepCopy()
		// Optimistic concurrency, as the apiserver: a write from a stale
		// cache conflicts.
		if in.ResourceVersion != out.ResourceVersion {
			return true, nil, apierrors.NewConflict(u.GetResource().GroupResource(), in.Name, errors.New("stale resourceVersion"))
		}
		rv.Add(1)
		out.ResourceVersion = strconv.FormatInt(rv.Load()+1000, 10)
		out.Status = in.Status
		return true, out, c.Tracker().Update(u.GetResource(), out, in.Namespace)
	})
	return c
}

func ptr[T any](v T) *T { return &v }

func newCronJob(name, schedule string, policy batchv1.ConcurrencyPolicy) *batchv1.CronJob {
	return &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: types.UID("cj-" + name), CreationTimestamp: metav1.NewTime(t0)},
		Spec: batchv1.CronJobSpec{
			Schedule:          schedule,
			TimeZone:          ptr("UTC"),
			ConcurrencyPolicy: policy,
			JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					Containers:    []corev1.Container{{Name: "c", Image: "busybox"}},
				}}},
			},
		},
	}
}

func start(t *testing.T, client *fake.Clientset, clk *testingclock.FakeClock) {
	t.Helper()
	f := informers.NewSharedInformerFactory(client, 0)
	c, err := New(Config{Client: client, Informers: f, Logger: slog.New(slog.DiscardHandler), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	f.Start(ctx.Done())
	go func() {
		defer close(done)
		_ = c.Run(ctx, 2)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		f.Shutdown()
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 10*time.Second, true,
		func(context.Context) (bool, error) { return cond(), nil })
	if err != nil {
		t.Fatalf("timed out waiting for %s", what)
	}
}

func jobNames(t *testing.T, client *fake.Clientset) []string {
	t.Helper()
	l, err := client.BatchV1().Jobs(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, j := range l.Items {
		out = append(out, j.Name)
	}
	sort.Strings(out)
	return out
}

func getCJ(t *testing.T, client *fake.Clientset, name string) *batchv1.CronJob {
	t.Helper()
	cj, err := client.BatchV1().CronJobs(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cj
}

// nameAt is the Job name for the schedule time minute:00 after t0's hour.
func nameAt(cj string, minute int) string {
	return fmt.Sprintf("%s-%d", cj, time.Date(2026, 1, 1, 0, minute, 0, 0, time.UTC).Unix()/60)
}

func same(a, b []string) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

// settle waits until the controller has a timer for the next schedule time.
func settle(t *testing.T, clk *testingclock.FakeClock) {
	t.Helper()
	waitFor(t, "a timer", clk.HasWaiters)
	time.Sleep(50 * time.Millisecond)
}

func finish(t *testing.T, client *fake.Clientset, name string, ty batchv1.JobConditionType, at time.Time) {
	t.Helper()
	j, err := client.BatchV1().Jobs(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	j.Status.Conditions = append(j.Status.Conditions, batchv1.JobCondition{Type: ty, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(at)})
	if ty == batchv1.JobComplete {
		j.Status.CompletionTime = ptr(metav1.NewTime(at))
	}
	if _, err := client.BatchV1().Jobs(ns).UpdateStatus(context.Background(), j, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestFiresOnSchedule(t *testing.T) {
	cj := newCronJob("tick", "* * * * *", batchv1.AllowConcurrent)
	client := newClient(cj)
	clk := testingclock.NewFakeClock(t0)
	start(t, client, clk)

	settle(t, clk)
	if n := jobNames(t, client); len(n) != 0 {
		t.Fatalf("jobs before the first schedule time: %v", n)
	}
	clk.Step(30 * time.Second) // 00:01:00
	waitFor(t, "the 00:01 job", func() bool {
		st := getCJ(t, client, "tick").Status
		return same(jobNames(t, client), []string{nameAt("tick", 1)}) && len(st.Active) == 1
	})
	j, err := client.BatchV1().Jobs(ns).Get(context.Background(), nameAt("tick", 1), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := j.Annotations[ScheduledTimestampAnnotation]; got != "2026-01-01T00:01:00Z" {
		t.Errorf("scheduled-timestamp annotation %q", got)
	}
	if ref := metav1.GetControllerOf(j); ref == nil || ref.Kind != "CronJob" || ref.UID != cj.UID {
		t.Errorf("owner %+v", ref)
	}
	if j.Labels["app"] != "tick" || j.Spec.Template.Spec.Containers[0].Image != "busybox" {
		t.Errorf("job not from the template: %v %+v", j.Labels, j.Spec.Template.Spec)
	}
	st := getCJ(t, client, "tick").Status
	if st.LastScheduleTime == nil || !st.LastScheduleTime.Time.Equal(time.Date(2026, 1, 1, 0, 1, 0, 0, time.UTC)) {
		t.Errorf("lastScheduleTime %v", st.LastScheduleTime)
	}
	if st.Active[0].Name != nameAt("tick", 1) || st.Active[0].UID != j.UID {
		t.Errorf("active %+v", st.Active)
	}

	// Allow: the next one starts although the first still runs.
	settle(t, clk)
	clk.Step(time.Minute) // 00:02:00
	waitFor(t, "the 00:02 job", func() bool {
		return same(jobNames(t, client), []string{nameAt("tick", 1), nameAt("tick", 2)}) &&
			len(getCJ(t, client, "tick").Status.Active) == 2
	})

	// A finished job leaves status.active and sets lastSuccessfulTime.
	done := time.Date(2026, 1, 1, 0, 2, 10, 0, time.UTC)
	finish(t, client, nameAt("tick", 1), batchv1.JobComplete, done)
	waitFor(t, "lastSuccessfulTime", func() bool {
		st := getCJ(t, client, "tick").Status
		return len(st.Active) == 1 && st.LastSuccessfulTime != nil && st.LastSuccessfulTime.Time.Equal(done)
	})
}

func TestSuspendAndStartingDeadline(t *testing.T) {
	cj := newCronJob("late", "*/5 * * * *", batchv1.AllowConcurrent)
	cj.Spec.StartingDeadlineSeconds = ptr(int64(10))
	sus := newCronJob("sus", "* * * * *", batchv1.AllowConcurrent)
	sus.Spec.Suspend = ptr(true)
	client := newClient(cj, sus)
	clk := testingclock.NewFakeClock(t0.Add(5 * time.Minute)) // 00:05:30: 00:05 is 30s late
	start(t, client, clk)

	settle(t, clk)
	if n := jobNames(t, client); len(n) != 0 {
		t.Fatalf("a missed start beyond startingDeadlineSeconds ran: %v", n)
	}
	clk.Step(270 * time.Second) // 00:10:00
	waitFor(t, "the 00:10 job", func() bool { return same(jobNames(t, client), []string{nameAt("late", 10)}) })
	time.Sleep(50 * time.Millisecond)
	if n := jobNames(t, client); !same(n, []string{nameAt("late", 10)}) {
		t.Errorf("jobs %v: the suspended cronjob ran", n)
	}
}

func TestForbidSkipsWhileRunning(t *testing.T) {
	cj := newCronJob("solo", "* * * * *", batchv1.ForbidConcurrent)
	client := newClient(cj)
	clk := testingclock.NewFakeClock(t0)
	start(t, client, clk)

	settle(t, clk)
	clk.Step(30 * time.Second) // 00:01:00
	waitFor(t, "the 00:01 job", func() bool {
		return same(jobNames(t, client), []string{nameAt("solo", 1)}) && len(getCJ(t, client, "solo").Status.Active) == 1
	})
	settle(t, clk)
	clk.Step(time.Minute) // 00:02:00
	settle(t, clk)
	if n := jobNames(t, client); !same(n, []string{nameAt("solo", 1)}) {
		t.Fatalf("jobs %v: Forbid started one while another ran", n)
	}
	// Once it ends, the skipped time starts (upstream: lastScheduleTime
	// is not advanced by a skip; startingDeadlineSeconds would bound it).
	finish(t, client, nameAt("solo", 1), batchv1.JobComplete, clk.Now())
	waitFor(t, "the 00:02 job after the first ended", func() bool {
		return same(jobNames(t, client), []string{nameAt("solo", 1), nameAt("solo", 2)})
	})
}

func TestReplaceDeletesRunning(t *testing.T) {
	cj := newCronJob("swap", "* * * * *", batchv1.ReplaceConcurrent)
	client := newClient(cj)
	clk := testingclock.NewFakeClock(t0)
	start(t, client, clk)

	settle(t, clk)
	clk.Step(30 * time.Second)
	waitFor(t, "the 00:01 job", func() bool {
		return same(jobNames(t, client), []string{nameAt("swap", 1)}) && len(getCJ(t, client, "swap").Status.Active) == 1
	})
	settle(t, clk)
	clk.Step(time.Minute)
	waitFor(t, "the 00:01 job replaced by the 00:02 one", func() bool {
		st := getCJ(t, client, "swap").Status
		return same(jobNames(t, client), []string{nameAt("swap", 2)}) && len(st.Active) == 1 && st.Active[0].Name == nameAt("swap", 2)
	})
	for _, a := range client.Actions() {
		if d, ok := a.(k8stesting.DeleteActionImpl); ok && a.GetResource().Resource == "jobs" {
			if pp := d.DeleteOptions.PropagationPolicy; pp == nil || *pp != metav1.DeletePropagationBackground {
				t.Errorf("job deleted with propagation %v", pp)
			}
		}
	}
}

func TestHistoryLimits(t *testing.T) {
	cj := newCronJob("hist", "0 0 1 1 *", batchv1.AllowConcurrent)
	cj.Spec.SuccessfulJobsHistoryLimit = ptr(int32(2))
	cj.Spec.FailedJobsHistoryLimit = ptr(int32(1))
	objs := []runtime.Object{cj}
	yes := true
	mk := func(minute int, ty batchv1.JobConditionType) {
		at := time.Date(2025, 12, 31, 23, minute, 0, 0, time.UTC)
		j := &batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{
				Name: fmt.Sprintf("hist-%d", at.Unix()/60), Namespace: ns, UID: types.UID(fmt.Sprintf("j%d", minute)),
				Annotations:     map[string]string{ScheduledTimestampAnnotation: at.Format(time.RFC3339)},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "CronJob", Name: "hist", UID: cj.UID, Controller: &yes}},
			},
			Status: batchv1.JobStatus{Conditions: []batchv1.JobCondition{{Type: ty, Status: corev1.ConditionTrue}}},
		}
		if ty == batchv1.JobComplete {
			j.Status.CompletionTime = ptr(metav1.NewTime(at.Add(30 * time.Second)))
		}
		objs = append(objs, j)
	}
	for m := 50; m < 54; m++ {
		mk(m, batchv1.JobComplete)
	}
	mk(54, batchv1.JobFailed)
	mk(55, batchv1.JobFailed)
	mk(56, batchv1.JobFailed)
	client := newClient(objs...)
	clk := testingclock.NewFakeClock(t0)
	start(t, client, clk)

	name := func(m int) string {
		return fmt.Sprintf("hist-%d", time.Date(2025, 12, 31, 23, m, 0, 0, time.UTC).Unix()/60)
	}
	want := []string{name(52), name(53), name(56)}
	sort.Strings(want)
	waitFor(t, "old jobs deleted", func() bool { return same(jobNames(t, client), want) })
	waitFor(t, "lastSuccessfulTime", func() bool {
		st := getCJ(t, client, "hist").Status
		return st.LastSuccessfulTime != nil && st.LastSuccessfulTime.Time.Equal(time.Date(2025, 12, 31, 23, 53, 30, 0, time.UTC))
	})
}
