package awssim_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/sagegate/sagegate/internal/sandbox/awssim"
)

func notebookStatus(t *testing.T, c *sagemaker.Client, name string) (types.NotebookInstanceStatus, string) {
	t.Helper()
	out, err := c.DescribeNotebookInstance(context.Background(), &sagemaker.DescribeNotebookInstanceInput{NotebookInstanceName: aws.String(name)})
	if err != nil {
		t.Fatalf("DescribeNotebookInstance(%s): %v", name, err)
	}
	return out.NotebookInstanceStatus, aws.ToString(out.FailureReason)
}

func wantNotebookStatus(t *testing.T, c *sagemaker.Client, name string, want types.NotebookInstanceStatus) {
	t.Helper()
	if got, reason := notebookStatus(t, c, name); got != want {
		t.Fatalf("%s is %s (%s), want %s", name, got, reason, want)
	}
}

// TestNotebookLifecycle walks one instance through every transition on
// the simulated clock: create, start, stop, delete.
func TestNotebookLifecycle(t *testing.T) {
	e := newEnv(t)
	e.sim.SetNotebookDelays(awssim.NotebookDelays{Start: 90 * time.Second, Stop: 30 * time.Second, Delete: 10 * time.Second})
	c := e.sagemaker("us-east-1", e.assume(t, roleA, extA, "alice", "alice"))
	ctx := context.Background()

	out, err := c.CreateNotebookInstance(ctx, &sagemaker.CreateNotebookInstanceInput{
		NotebookInstanceName: aws.String("Alice-NB"), InstanceType: types.InstanceTypeMlT3Medium,
		RoleArn:  aws.String("arn:aws:iam::111111111111:role/notebook-exec"),
		SubnetId: aws.String("subnet-0123456789abcdef0"), SecurityGroupIds: []string{"sg-0123456789abcdef0"},
		DirectInternetAccess: types.DirectInternetAccessDisabled, RootAccess: types.RootAccessDisabled,
		KmsKeyId: aws.String("alias/nb"), LifecycleConfigName: aws.String("idle"), VolumeSizeInGB: aws.Int32(20),
		Tags: []types.Tag{{Key: aws.String("sagegate:user"), Value: aws.String("alice")}},
	})
	if err != nil {
		t.Fatalf("CreateNotebookInstance: %v", err)
	}
	if got, want := aws.ToString(out.NotebookInstanceArn), "arn:aws:sagemaker:us-east-1:111111111111:notebook-instance/alice-nb"; got != want {
		t.Errorf("ARN = %q, want %q (name lower-cased)", got, want)
	}
	wantNotebookStatus(t, c, "Alice-NB", types.NotebookInstanceStatusPending)
	_, err = c.CreateNotebookInstance(ctx, &sagemaker.CreateNotebookInstanceInput{
		NotebookInstanceName: aws.String("Alice-NB"), InstanceType: types.InstanceTypeMlT3Medium,
		RoleArn: aws.String("arn:aws:iam::111111111111:role/notebook-exec"),
	})
	wantContains(t, wantAPIError(t, err, "ValidationException", 400), "Cannot create a duplicate Notebook Instance")

	e.clock.Advance(89 * time.Second)
	wantNotebookStatus(t, c, "Alice-NB", types.NotebookInstanceStatusPending)
	e.clock.Advance(time.Second)
	wantNotebookStatus(t, c, "Alice-NB", types.NotebookInstanceStatusInService)
	d, _ := c.DescribeNotebookInstance(ctx, &sagemaker.DescribeNotebookInstanceInput{NotebookInstanceName: aws.String("Alice-NB")})
	if d.RootAccess != types.RootAccessDisabled || d.DirectInternetAccess != types.DirectInternetAccessDisabled ||
		aws.ToString(d.KmsKeyId) != "alias/nb" || aws.ToInt32(d.VolumeSizeInGB) != 20 || aws.ToString(d.SubnetId) != "subnet-0123456789abcdef0" ||
		aws.ToString(d.NotebookInstanceLifecycleConfigName) != "idle" || len(d.SecurityGroups) != 1 {
		t.Errorf("describe = %+v", d)
	}

	// Only a stopped instance starts; only an InService one stops.
	_, err = c.StartNotebookInstance(ctx, &sagemaker.StartNotebookInstanceInput{NotebookInstanceName: aws.String("Alice-NB")})
	wantContains(t, wantAPIError(t, err, "ValidationException", 400), "Status (InService) not in ([Stopped])")
	_, err = c.DeleteNotebookInstance(ctx, &sagemaker.DeleteNotebookInstanceInput{NotebookInstanceName: aws.String("Alice-NB")})
	wantAPIError(t, err, "ValidationException", 400)

	if _, err := c.StopNotebookInstance(ctx, &sagemaker.StopNotebookInstanceInput{NotebookInstanceName: aws.String("Alice-NB")}); err != nil {
		t.Fatalf("StopNotebookInstance: %v", err)
	}
	wantNotebookStatus(t, c, "Alice-NB", types.NotebookInstanceStatusStopping)
	e.clock.Advance(30 * time.Second)
	wantNotebookStatus(t, c, "Alice-NB", types.NotebookInstanceStatusStopped)

	if _, err := c.StartNotebookInstance(ctx, &sagemaker.StartNotebookInstanceInput{NotebookInstanceName: aws.String("Alice-NB")}); err != nil {
		t.Fatalf("StartNotebookInstance: %v", err)
	}
	wantNotebookStatus(t, c, "Alice-NB", types.NotebookInstanceStatusPending)
	e.clock.Advance(90 * time.Second)
	wantNotebookStatus(t, c, "Alice-NB", types.NotebookInstanceStatusInService)
	_, _ = c.StopNotebookInstance(ctx, &sagemaker.StopNotebookInstanceInput{NotebookInstanceName: aws.String("Alice-NB")})
	e.clock.Advance(30 * time.Second)

	if _, err := c.DeleteNotebookInstance(ctx, &sagemaker.DeleteNotebookInstanceInput{NotebookInstanceName: aws.String("Alice-NB")}); err != nil {
		t.Fatalf("DeleteNotebookInstance: %v", err)
	}
	wantNotebookStatus(t, c, "Alice-NB", types.NotebookInstanceStatusDeleting)
	e.clock.Advance(10 * time.Second)
	_, err = c.DescribeNotebookInstance(ctx, &sagemaker.DescribeNotebookInstanceInput{NotebookInstanceName: aws.String("Alice-NB")})
	wantContains(t, wantAPIError(t, err, "ValidationException", 400), "RecordNotFound")

	// Every call was counted, with the instance in its record.
	if n := e.sim.Calls().Count("sagemaker", "StartNotebookInstance", acctA); n != 2 {
		t.Errorf("StartNotebookInstance count = %d, want 2", n)
	}
	last := e.sim.CallLog()[len(e.sim.CallLog())-1]
	if last.NotebookInstance != "Alice-NB" || last.SourceIdentity != "alice" {
		t.Errorf("call record = %+v", last)
	}
}

func TestNotebookSeededStatesAndFailure(t *testing.T) {
	e := newEnv(t)
	e.sim.SetNotebookDelays(awssim.NotebookDelays{Start: time.Minute, Stop: time.Minute, Update: 2 * time.Minute})
	for _, n := range []awssim.NotebookInstance{
		{Account: acctA, Name: "updating", Status: awssim.NotebookUpdating},
		{Account: acctA, Name: "stopping", Status: awssim.NotebookStopping},
		{Account: acctA, Name: "broken", Status: awssim.NotebookFailed, FailureReason: "The lifecycle script failed."},
		{Account: acctA, Name: "will-fail", FailureReason: "ResourceLimitExceeded: no ml.t3.medium capacity"},
	} {
		e.sim.AddNotebookInstance(n)
	}
	c := e.sagemaker("us-east-1", e.assume(t, roleA, extA, "alice", "alice"))
	ctx := context.Background()
	wantNotebookStatus(t, c, "updating", types.NotebookInstanceStatusUpdating)
	wantNotebookStatus(t, c, "stopping", types.NotebookInstanceStatusStopping)
	if status, reason := notebookStatus(t, c, "broken"); status != types.NotebookInstanceStatusFailed || reason != "The lifecycle script failed." {
		t.Errorf("broken = %s %q", status, reason)
	}
	e.clock.Advance(time.Minute)
	wantNotebookStatus(t, c, "stopping", types.NotebookInstanceStatusStopped)
	wantNotebookStatus(t, c, "updating", types.NotebookInstanceStatusUpdating)
	e.clock.Advance(time.Minute)
	wantNotebookStatus(t, c, "updating", types.NotebookInstanceStatusStopped)

	// The injected failure shows when the start ends, with its reason.
	if _, err := c.StartNotebookInstance(ctx, &sagemaker.StartNotebookInstanceInput{NotebookInstanceName: aws.String("will-fail")}); err != nil {
		t.Fatal(err)
	}
	wantNotebookStatus(t, c, "will-fail", types.NotebookInstanceStatusPending)
	e.clock.Advance(time.Minute)
	if status, reason := notebookStatus(t, c, "will-fail"); status != types.NotebookInstanceStatusFailed || !strings.Contains(reason, "no ml.t3.medium capacity") {
		t.Errorf("will-fail = %s %q", status, reason)
	}
	// A failed instance can only be deleted.
	_, err := c.StartNotebookInstance(ctx, &sagemaker.StartNotebookInstanceInput{NotebookInstanceName: aws.String("will-fail")})
	wantAPIError(t, err, "ValidationException", 400)

	// FailNextNotebookStart arms the next start of an existing instance.
	if e.sim.FailNextNotebookStart(acctA, "", "no-such-instance", "x") {
		t.Error("FailNextNotebookStart armed an instance that does not exist")
	}
	if !e.sim.FailNextNotebookStart(acctA, "us-east-1", "stopping", "The lifecycle script timed out.") {
		t.Fatal("FailNextNotebookStart did not find instance stopping")
	}
	if _, err := c.StartNotebookInstance(ctx, &sagemaker.StartNotebookInstanceInput{NotebookInstanceName: aws.String("stopping")}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	if status, reason := notebookStatus(t, c, "stopping"); status != types.NotebookInstanceStatusFailed || reason != "The lifecycle script timed out." {
		t.Errorf("armed start = %s %q", status, reason)
	}

	// Another account sees none of them.
	cb := e.sagemaker("us-east-1", e.assume(t, roleB, "", "carol", "carol"))
	_, err = cb.DescribeNotebookInstance(ctx, &sagemaker.DescribeNotebookInstanceInput{NotebookInstanceName: aws.String("broken")})
	wantContains(t, wantAPIError(t, err, "ValidationException", 400), "RecordNotFound")
}

func TestNotebookCreateValidation(t *testing.T) {
	e := newEnv(t)
	c := e.sagemaker("us-east-1", e.assume(t, roleA, extA, "alice", "alice"))
	ctx := context.Background()
	role := aws.String("arn:aws:iam::111111111111:role/x")
	cases := []struct {
		name string
		in   sagemaker.CreateNotebookInstanceInput
		msg  string
	}{
		{"bad name", sagemaker.CreateNotebookInstanceInput{NotebookInstanceName: aws.String("bad_name"), InstanceType: "ml.t3.medium", RoleArn: role}, "notebookInstanceName"},
		{"bad type", sagemaker.CreateNotebookInstanceInput{NotebookInstanceName: aws.String("nb"), InstanceType: "t3.medium", RoleArn: role}, "instanceType"},
		{"small volume", sagemaker.CreateNotebookInstanceInput{NotebookInstanceName: aws.String("nb"), InstanceType: "ml.t3.medium", RoleArn: role, VolumeSizeInGB: aws.Int32(1)}, "volumeSizeInGB"},
		{"no internet without subnet", sagemaker.CreateNotebookInstanceInput{NotebookInstanceName: aws.String("nb"), InstanceType: "ml.t3.medium", RoleArn: role, DirectInternetAccess: types.DirectInternetAccessDisabled}, "SubnetId"},
		{"bad role", sagemaker.CreateNotebookInstanceInput{NotebookInstanceName: aws.String("nb"), InstanceType: "ml.t3.medium", RoleArn: aws.String("arn:aws:iam::1234:role/x")}, "at 'roleArn' failed to satisfy constraint: Member must satisfy regular expression pattern"},
		{"long KMS key", sagemaker.CreateNotebookInstanceInput{NotebookInstanceName: aws.String("nb"), InstanceType: "ml.t3.medium", RoleArn: role, KmsKeyId: aws.String(strings.Repeat("k", 2049))}, "at 'kmsKeyId' failed to satisfy constraint: Member must have length less than or equal to 2048"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.CreateNotebookInstance(ctx, &tc.in)
			wantContains(t, wantAPIError(t, err, "ValidationException", 400), tc.msg)
		})
	}
}

func TestListNotebookInstances(t *testing.T) {
	e := newEnv(t)
	start := e.clock.Now()
	for i := range 25 {
		status := awssim.NotebookStopped
		if i%5 == 0 {
			status = awssim.NotebookInService
		}
		e.sim.AddNotebookInstance(awssim.NotebookInstance{Account: acctA, Name: fmt.Sprintf("nb-%02d", i), Status: status})
		e.clock.Advance(time.Second)
	}
	e.sim.AddNotebookInstance(awssim.NotebookInstance{Account: acctA, Region: "eu-west-1", Name: "elsewhere"})
	e.sim.AddNotebookInstance(awssim.NotebookInstance{Account: acctB, Name: "nb-other-account"})
	c := e.sagemaker("us-east-1", e.assume(t, roleA, extA, "alice", "alice"))
	ctx := context.Background()

	var names []string
	p := sagemaker.NewListNotebookInstancesPaginator(c, &sagemaker.ListNotebookInstancesInput{MaxResults: aws.Int32(7)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, nb := range out.NotebookInstances {
			names = append(names, aws.ToString(nb.NotebookInstanceName))
		}
	}
	if len(names) != 25 || pages != 4 || names[0] != "nb-00" || names[24] != "nb-24" {
		t.Errorf("listed %d in %d pages: %v", len(names), pages, names)
	}

	out, err := c.ListNotebookInstances(ctx, &sagemaker.ListNotebookInstancesInput{
		StatusEquals: types.NotebookInstanceStatusInService, NameContains: aws.String("NB-1"),
		SortBy: types.NotebookInstanceSortKeyCreationTime, SortOrder: types.NotebookInstanceSortOrderDescending,
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, nb := range out.NotebookInstances {
		got = append(got, aws.ToString(nb.NotebookInstanceName)+"/"+string(nb.NotebookInstanceStatus))
	}
	if strings.Join(got, ",") != "nb-15/InService,nb-10/InService" {
		t.Errorf("filtered listing = %v", got)
	}

	// Both time bounds are exclusive: nb-09 and nb-12 sit on them.
	out, err = c.ListNotebookInstances(ctx, &sagemaker.ListNotebookInstancesInput{
		LastModifiedTimeAfter: aws.Time(start.Add(9 * time.Second)), LastModifiedTimeBefore: aws.Time(start.Add(12 * time.Second)),
	})
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, nb := range out.NotebookInstances {
		got = append(got, aws.ToString(nb.NotebookInstanceName))
	}
	if strings.Join(got, ",") != "nb-10,nb-11" {
		t.Errorf("listing modified between +9s and +12s = %v", got)
	}

	_, err = c.ListNotebookInstances(ctx, &sagemaker.ListNotebookInstancesInput{NextToken: aws.String("garbage")})
	wantAPIError(t, err, "ValidationException", 400)
	_, err = c.ListNotebookInstances(ctx, &sagemaker.ListNotebookInstancesInput{NameContains: aws.String(strings.Repeat("n", 64))})
	wantContains(t, wantAPIError(t, err, "ValidationException", 400), "at 'nameContains' failed to satisfy constraint: Member must have length less than or equal to 63")
}

// TestPresignedNotebookURL checks the URL works once, for five minutes
// only, and lands in the simulated Jupyter of a running instance.
func TestPresignedNotebookURL(t *testing.T) {
	e := newEnv(t)
	e.sim.AddNotebookInstance(awssim.NotebookInstance{Account: acctA, Name: "nb-alice", Status: awssim.NotebookInService})
	e.sim.AddNotebookInstance(awssim.NotebookInstance{Account: acctA, Name: "nb-stopped"})
	c := e.sagemaker("us-east-1", e.assume(t, roleA, extA, "sagegate-alice", "alice@example.com"))
	ctx := context.Background()
	mint := func(name string, session *int32) string {
		t.Helper()
		out, err := c.CreatePresignedNotebookInstanceUrl(ctx, &sagemaker.CreatePresignedNotebookInstanceUrlInput{
			NotebookInstanceName: aws.String(name), SessionExpirationDurationInSeconds: session})
		if err != nil {
			t.Fatalf("CreatePresignedNotebookInstanceUrl: %v", err)
		}
		return aws.ToString(out.AuthorizedUrl)
	}
	for _, bad := range []int32{1799, 43201} {
		_, err := c.CreatePresignedNotebookInstanceUrl(ctx, &sagemaker.CreatePresignedNotebookInstanceUrlInput{
			NotebookInstanceName: aws.String("nb-alice"), SessionExpirationDurationInSeconds: aws.Int32(bad)})
		wantContains(t, wantAPIError(t, err, "ValidationException", 400), "sessionExpirationDurationInSeconds")
	}
	_, err := c.CreatePresignedNotebookInstanceUrl(ctx, &sagemaker.CreatePresignedNotebookInstanceUrlInput{NotebookInstanceName: aws.String("nope")})
	wantContains(t, wantAPIError(t, err, "ValidationException", 400), "RecordNotFound")

	u := mint("nb-alice", aws.Int32(1800))
	if prefix := e.notebookBase + "/" + acctA + "/us-east-1/nb-alice?authToken="; !strings.HasPrefix(u, prefix) {
		t.Fatalf("URL %q, want prefix %q", u, prefix)
	}
	browser := e.browser(t)
	redeem := get(t, browser, u)
	if redeem.status != http.StatusSeeOther || !strings.HasSuffix(redeem.header.Get("Location"), "/nb-alice/tree") {
		t.Fatalf("redeem: %d %v", redeem.status, redeem.header)
	}
	page := get(t, browser, e.srv.URL+redeem.header.Get("Location"))
	if page.status != http.StatusOK || !strings.Contains(page.body, `<dd id="instance">nb-alice</dd>`) ||
		!strings.Contains(page.body, `<dd id="source-identity">alice@example.com</dd>`) {
		t.Fatalf("landing: %d\n%s", page.status, page.body)
	}
	// The session lasts what was asked for, however short the URL's life.
	wantContains(t, page.body, `<dd id="session-expires">`+e.clock.Now().Add(1800*time.Second).Format(time.RFC3339)+`</dd>`)
	if again := get(t, e.browser(t), u); again.status != http.StatusForbidden || !strings.Contains(again.body, "already used") {
		t.Errorf("second use: %d %s", again.status, again.body)
	}
	late := mint("nb-alice", nil)
	e.clock.Advance(5 * time.Minute)
	if r := get(t, e.browser(t), late); r.status != http.StatusForbidden || !strings.Contains(r.body, "expired") {
		t.Errorf("after 5 minutes: %d %s", r.status, r.body)
	}
	// A token opens only the instance it was minted for, and a made-up
	// one opens nothing.
	for name, u := range map[string]string{
		"another instance's token": strings.Replace(mint("nb-alice", nil), "/nb-alice?", "/nb-other?", 1),
		"made-up token":            e.notebookBase + "/" + acctA + "/us-east-1/nb-alice?authToken=bogus",
	} {
		if r := get(t, e.browser(t), u); r.status != http.StatusForbidden || !strings.Contains(r.body, "not valid") {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	// A stopped instance signs in but has nothing to show.
	redeem = get(t, browser, mint("nb-stopped", nil))
	if stopped := get(t, browser, e.srv.URL+redeem.header.Get("Location")); stopped.status != http.StatusServiceUnavailable || !strings.Contains(stopped.body, "is stopped") {
		t.Errorf("stopped instance: %d %s", stopped.status, stopped.body)
	}
	// An address that cannot name an instance is not found.
	if lost := get(t, browser, e.notebookBase+"/not-an-account/us-east-1/nb-alice/tree"); lost.status != http.StatusNotFound ||
		!strings.Contains(lost.body, "no notebook instance at this address") {
		t.Errorf("address without an account: %d %s", lost.status, lost.body)
	}
	// Another instance's page needs its own sign-in.
	if other := get(t, browser, e.notebookBase+"/"+acctA+"/us-east-1/nb-other/tree"); other.status != http.StatusForbidden {
		t.Errorf("unsigned instance: %d", other.status)
	}
	if strings.Contains(e.logs.String(), "authToken") {
		t.Error("a presigned notebook URL reached the log")
	}
}

func TestNotebookTags(t *testing.T) {
	e := newEnv(t)
	e.sim.AddNotebookInstance(awssim.NotebookInstance{Account: acctA, Name: "NB-Tagged", Tags: []awssim.Tag{{Key: "sagegate:user", Value: "alice"}}})
	c := e.sagemaker("us-east-1", e.assume(t, roleA, extA, "alice", "alice"))
	ctx := context.Background()
	arn := aws.String("arn:aws:sagemaker:us-east-1:111111111111:notebook-instance/nb-tagged")
	if _, err := c.AddTags(ctx, &sagemaker.AddTagsInput{ResourceArn: arn, Tags: []types.Tag{
		{Key: aws.String("sagegate:last-launch"), Value: aws.String("2026-11-21T15:15:44Z")},
		{Key: aws.String("sagegate:user"), Value: aws.String("alice")},
	}}); err != nil {
		t.Fatalf("AddTags: %v", err)
	}
	out, err := c.ListTags(ctx, &sagemaker.ListTagsInput{ResourceArn: arn})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Tags) != 2 || aws.ToString(out.Tags[1].Value) != "2026-11-21T15:15:44Z" {
		t.Errorf("tags = %+v", out.Tags)
	}
	_, err = c.ListTags(ctx, &sagemaker.ListTagsInput{ResourceArn: aws.String("arn:aws:sagemaker:us-east-1:222222222222:notebook-instance/nb-tagged")})
	wantAPIError(t, err, "ResourceNotFound", 400)
}
