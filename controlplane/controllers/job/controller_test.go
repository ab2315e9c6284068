package job

import (
	"context"
	"errors"
	"log/slog"
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

// newClient returns a fake clientset that, like the apiserver, fills in
// generateName, uid and creationTimestamp on create, and writes only the
// status on a status update.
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
	c.PrependReactor("update", "jobs", func(a k8stesting.Action) (bool, runtime.Object, error) {
		u := a.(k8stesting.UpdateAction)
		if u.GetSubresource() != "status" {
			return false, nil, nil
		}
		in := u.GetObject().(*batchv1.Job)
		cur, err := c.Tracker().Get(u.GetResource(), in.Namespace, in.Name)
		if err != nil {
			return true, nil, err
		}
		out := cur.(*batchv1.Job).DeepCopy()
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

func newJob(name string, parallelism, completions int32) *batchv1.Job {
	uid := types.UID("job-" + name)
	l := map[string]string{"batch.kubernetes.io/controller-uid": string(uid), "batch.kubernetes.io/job-name": name}
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: uid},
		Spec: batchv1.JobSpec{
			Parallelism: &parallelism,
			Completions: &completions,
			Selector:    &metav1.LabelSelector{MatchLabels: map[string]string{"batch.kubernetes.io/controller-uid": string(uid)}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: l},
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					Containers:    []corev1.Container{{Name: "c", Image: "busybox"}},
				},
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

func getJob(t *testing.T, client *fake.Clientset, name string) *batchv1.Job {
	t.Helper()
	j, err := client.BatchV1().Jobs(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func podsWith(t *testing.T, client *fake.Clientset, phase corev1.PodPhase) []corev1.Pod {
	t.Helper()
	l, err := client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []corev1.Pod
	for _, p := range l.Items {
		if p.Status.Phase == phase {
			out = append(out, p)
		}
	}
	return out
}

func setPhase(t *testing.T, client *fake.Clientset, p corev1.Pod, phase corev1.PodPhase) {
	t.Helper()
	p.Status.Phase = phase
	if _, err := client.CoreV1().Pods(ns).Update(context.Background(), &p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func cond(j *batchv1.Job, ty batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range j.Status.Conditions {
		if j.Status.Conditions[i].Type == ty && j.Status.Conditions[i].Status == corev1.ConditionTrue {
			return &j.Status.Conditions[i]
		}
	}
	return nil
}

func TestCompletesWithParallelism(t *testing.T) {
	job := newJob("pi", 2, 4)
	client := newClient(job)
	clk := testingclock.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	start(t, client, clk)

	waitFor(t, "2 active pods", func() bool {
		return len(podsWith(t, client, "")) == 2 && getJob(t, client, "pi").Status.Active == 2
	})
	j := getJob(t, client, "pi")
	if j.Status.StartTime == nil || !j.Status.StartTime.Time.Equal(clk.Now()) {
		t.Errorf("startTime %v", j.Status.StartTime)
	}
	for _, p := range podsWith(t, client, "") {
		ref := metav1.GetControllerOf(&p)
		if ref == nil || ref.Kind != "Job" || ref.Name != "pi" || ref.UID != job.UID {
			t.Errorf("pod %s owner %+v", p.Name, ref)
		}
		if p.Spec.RestartPolicy != corev1.RestartPolicyNever || p.Labels["batch.kubernetes.io/job-name"] != "pi" {
			t.Errorf("pod %s not from template: %v %v", p.Name, p.Spec.RestartPolicy, p.Labels)
		}
		setPhase(t, client, p, corev1.PodSucceeded)
	}
	waitFor(t, "2 more pods", func() bool {
		st := getJob(t, client, "pi").Status
		return len(podsWith(t, client, "")) == 2 && st.Succeeded == 2 && st.Active == 2
	})
	for _, p := range podsWith(t, client, "") {
		setPhase(t, client, p, corev1.PodSucceeded)
	}
	waitFor(t, "Complete", func() bool { return cond(getJob(t, client, "pi"), batchv1.JobComplete) != nil })
	j = getJob(t, client, "pi")
	if j.Status.Succeeded != 4 || j.Status.Active != 0 || j.Status.Failed != 0 || j.Status.CompletionTime == nil {
		t.Errorf("status %+v", j.Status)
	}
	if cond(j, batchv1.JobSuccessCriteriaMet) == nil {
		t.Errorf("no SuccessCriteriaMet: %+v", j.Status.Conditions)
	}
	time.Sleep(50 * time.Millisecond)
	if n := len(podsWith(t, client, "")) + len(podsWith(t, client, corev1.PodSucceeded)); n != 4 {
		t.Errorf("%d pods, want 4", n)
	}
}

func TestBackoffLimit(t *testing.T) {
	job := newJob("flaky", 2, 5)
	job.Spec.BackoffLimit = ptr(int32(1))
	client := newClient(job)
	clk := testingclock.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	start(t, client, clk)

	waitFor(t, "2 active pods", func() bool { return len(podsWith(t, client, "")) == 2 })
	setPhase(t, client, podsWith(t, client, "")[0], corev1.PodFailed)
	waitFor(t, "a replacement", func() bool {
		return len(podsWith(t, client, "")) == 2 && getJob(t, client, "flaky").Status.Failed == 1
	})
	if cond(getJob(t, client, "flaky"), batchv1.JobFailed) != nil {
		t.Fatal("failed at the first failure with backoffLimit 1")
	}
	setPhase(t, client, podsWith(t, client, "")[0], corev1.PodFailed)
	waitFor(t, "Failed", func() bool { return cond(getJob(t, client, "flaky"), batchv1.JobFailed) != nil })
	j := getJob(t, client, "flaky")
	if c := cond(j, batchv1.JobFailed); c.Reason != "BackoffLimitExceeded" {
		t.Errorf("reason %q", c.Reason)
	}
	if j.Status.Failed != 2 || j.Status.Active != 0 {
		t.Errorf("status %+v", j.Status)
	}
	waitFor(t, "the other active pod deleted", func() bool { return len(podsWith(t, client, "")) == 0 })
	if n := len(podsWith(t, client, corev1.PodFailed)); n != 2 {
		t.Errorf("%d failed pods, want 2", n)
	}
}

func TestActiveDeadline(t *testing.T) {
	job := newJob("slow", 1, 1)
	job.Spec.ActiveDeadlineSeconds = ptr(int64(60))
	client := newClient(job)
	clk := testingclock.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	start(t, client, clk)

	waitFor(t, "an active pod and a deadline timer", func() bool {
		return len(podsWith(t, client, "")) == 1 && getJob(t, client, "slow").Status.StartTime != nil && clk.HasWaiters()
	})
	clk.Step(30 * time.Second)
	time.Sleep(50 * time.Millisecond)
	if cond(getJob(t, client, "slow"), batchv1.JobFailed) != nil {
		t.Fatal("failed before the deadline")
	}
	clk.Step(31 * time.Second)
	waitFor(t, "Failed", func() bool { return cond(getJob(t, client, "slow"), batchv1.JobFailed) != nil })
	if c := cond(getJob(t, client, "slow"), batchv1.JobFailed); c.Reason != "DeadlineExceeded" {
		t.Errorf("reason %q", c.Reason)
	}
	waitFor(t, "the pod deleted", func() bool { return len(podsWith(t, client, "")) == 0 })
}

func TestTTLAfterFinished(t *testing.T) {
	job := newJob("once", 1, 1)
	job.Spec.TTLSecondsAfterFinished = ptr(int32(30))
	client := newClient(job)
	clk := testingclock.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	start(t, client, clk)

	waitFor(t, "an active pod", func() bool { return len(podsWith(t, client, "")) == 1 })
	setPhase(t, client, podsWith(t, client, "")[0], corev1.PodSucceeded)
	waitFor(t, "Complete and a TTL timer", func() bool {
		return cond(getJob(t, client, "once"), batchv1.JobComplete) != nil && clk.HasWaiters()
	})
	clk.Step(29 * time.Second)
	time.Sleep(50 * time.Millisecond)
	getJob(t, client, "once") // still there
	clk.Step(2 * time.Second)
	waitFor(t, "the job deleted", func() bool {
		_, err := client.BatchV1().Jobs(ns).Get(context.Background(), "once", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
	var sawBackground bool
	for _, a := range client.Actions() {
		if d, ok := a.(k8stesting.DeleteActionImpl); ok && a.GetResource().Resource == "jobs" {
			pp := d.DeleteOptions.PropagationPolicy
			sawBackground = pp != nil && *pp == metav1.DeletePropagationBackground
		}
	}
	if !sawBackground {
		t.Error("the job was not deleted with propagation Background")
	}
}
