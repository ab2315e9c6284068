package cronjob

import (
	"context"
	"log/slog"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	testingclock "k8s.io/utils/clock/testing"

	"rudder/controlplane/apiserver/apiservertest"
)

// TestFiresAgainstAPIServer: on a controlled clock, a CronJob stored in
// the real apiserver fires at its schedule and the Job it creates passes
// the server's defaulting and validation.
func TestFiresAgainstAPIServer(t *testing.T) {
	client := apiservertest.Client(t)
	ctx := context.Background()
	cj := newCronJob("tick", "*/5 * * * *", batchv1.AllowConcurrent)
	cj.UID, cj.CreationTimestamp = "", metav1.Time{}
	created, err := client.BatchV1().CronJobs(ns).Create(ctx, cj, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	now := created.CreationTimestamp.Time
	clk := testingclock.NewFakeClock(now)
	f := informers.NewSharedInformerFactory(client, 0)
	c, err := New(Config{Client: client, Informers: f, Logger: slog.New(slog.DiscardHandler), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	f.Start(runCtx.Done())
	go func() { _ = c.Run(runCtx, 1) }()

	time.Sleep(300 * time.Millisecond)
	if jobs, _ := client.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{}); len(jobs.Items) != 0 {
		t.Fatalf("fired before its schedule: %d jobs", len(jobs.Items))
	}
	next := now.Truncate(5 * time.Minute).Add(5 * time.Minute)
	clk.SetTime(next.Add(time.Second))
	waitFor(t, "the scheduled job", func() bool {
		jobs, err := client.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{})
		return err == nil && len(jobs.Items) == 1 && jobs.Items[0].Name == JobName(created, next)
	})
	waitFor(t, "lastScheduleTime", func() bool {
		cj, err := client.BatchV1().CronJobs(ns).Get(ctx, "tick", metav1.GetOptions{})
		return err == nil && cj.Status.LastScheduleTime != nil && cj.Status.LastScheduleTime.Time.Equal(next)
	})
}
