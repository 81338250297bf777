package routing

import (
	"context"
	"strings"
	"testing"

	"github.com/sagegate/sagegate/internal/identity"
)

func smallTemplate() NotebookTemplate {
	return NotebookTemplate{
		Name: "small", InstanceTypes: []string{"ml.t3.medium"},
		SubnetID: "subnet-0123456789abcdef0", RoleARN: "notebook-exec",
	}
}

func TestResolverNotebookTargets(t *testing.T) {
	s := newFakeStore()
	a := s.lobs["lob-a"]
	a.Notebooks = []NotebookRef{{Name: "team-nb", Label: "Team notebook"}}
	a.NotebookTemplates = []NotebookTemplate{smallTemplate()}
	s.lobs["lob-a"] = a
	// lob-c is not one of alice's LOBs; her own notebook there still counts.
	s.users["alice"] = User{Name: "alice", LOBs: []string{"lob-a"}, Notebooks: []NotebookRef{
		{LOB: "lob-c", Name: "sc-alice", Label: "From Service Catalog"},
		// The template target of lob-a, recorded too: listed once.
		{LOB: "lob-a", Name: "small-alice", Template: "small"},
		{LOB: "lob-gone", Name: "lost"},
	}}

	ts, err := NewResolver(s, nil).Targets(context.Background(), &identity.Principal{Username: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tg := range ts {
		got = append(got, tg.Kind+" "+tg.ID+" owner="+tg.Owner+" instance="+tg.NotebookInstance)
	}
	want := []string{
		"studio lob-a owner= instance=",
		"notebook lob-a:team-nb owner= instance=team-nb",
		"notebook lob-a:small-alice owner=alice instance=small-alice",
		"notebook lob-c:sc-alice owner=alice instance=sc-alice",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("targets:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	tpl := ts[2]
	if tpl.NotebookTemplate == nil || tpl.NotebookTemplate.Name != "small" || tpl.Template != "small" || tpl.Label != "Notebook (small)" {
		t.Errorf("template target = %+v", tpl)
	}
	sc := ts[3]
	if sc.AccountID != s.lobs["lob-c"].AccountID || sc.RoleARN != s.lobs["lob-c"].RoleARN || sc.Label != "From Service Catalog" || sc.NotebookTemplate != nil {
		t.Errorf("user notebook target = %+v", sc)
	}

	// Someone with only a notebook of their own, and no LOB.
	s.users["nolob"] = User{Name: "nolob", Notebooks: []NotebookRef{{LOB: "lob-b", Name: "nb-x"}}}
	ts, err = NewResolver(s, nil).Targets(context.Background(), &identity.Principal{Username: "nolob"})
	if err != nil || len(ts) != 1 || ts[0].ID != "lob-b:nb-x" || ts[0].Label != "Notebook nb-x" {
		t.Errorf("targets of a person with a notebook only = %+v, %v", ts, err)
	}
}

func TestNotebookName(t *testing.T) {
	long := strings.Repeat("a", 70)
	tests := []struct {
		template, user string
		n              int
		want           string
	}{
		{"small", "alice", 1, "small-alice"},
		{"small", "alice", 2, "small-alice-2"},
		{"small", "alice@example.com", 1, "small-alice-example-com-"},
		{"gpu", long, 1, "gpu-"},
		{"gpu", long, 3, "gpu-"},
	}
	for _, tc := range tests {
		got, err := NotebookName(tc.template, tc.user, tc.n)
		if err != nil || !strings.HasPrefix(got, tc.want) || !ValidProfileName(got) {
			t.Errorf("NotebookName(%q, %q, %d) = %q, %v; want a valid name starting %q", tc.template, tc.user, tc.n, got, err, tc.want)
		}
		if tc.n > 1 && !strings.HasSuffix(got, "-3") && !strings.HasSuffix(got, "-2") {
			t.Errorf("NotebookName(..., %d) = %q lacks its number", tc.n, got)
		}
	}
	a, _ := NotebookName("small", "a.b", 1)
	b, _ := NotebookName("small", "a-b", 1)
	if a == b {
		t.Errorf("a.b and a-b share the notebook %q", a)
	}
	if _, err := NotebookName("Bad_Template", "alice", 1); err == nil {
		t.Error("an invalid template name was accepted")
	}
}

func TestNotebookValidation(t *testing.T) {
	l := testLOB("lob-a", ProfileRuleSanitized)
	l.Notebooks = []NotebookRef{{Name: "ok"}, {Name: "bad_name"}, {LOB: "lob-b", Name: "elsewhere"}, {Name: "ok"}}
	open := smallTemplate()
	open.SubnetID = ""
	open.DirectInternetAccess = true
	open.Name = "open"
	bad := NotebookTemplate{Name: "Bad", InstanceTypes: []string{"t3.medium"}, VolumeSizeGB: 2,
		SecurityGroupIDs: []string{"sg-1"}, MaxPerUser: 99, Tags: map[string]string{"sagegate:user": "x"}}
	l.NotebookTemplates = []NotebookTemplate{smallTemplate(), open, bad, smallTemplate()}
	var msgs []string
	for _, e := range l.Validate() {
		msgs = append(msgs, e.Error())
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{
		"notebooks[1].name: must be a notebook instance name",
		"notebooks[2].lob: a LOB's notebooks are in its own account",
		`notebooks[3].name: "ok" is listed twice`,
		"notebookTemplates[2].name: must be 1 to 20",
		"notebookTemplates[2].instanceTypes[0]: must be a SageMaker instance type",
		"notebookTemplates[2].volumeSizeGb: must be between 5",
		"notebookTemplates[2].subnetId: required while directInternetAccess is off",
		"notebookTemplates[2].securityGroupIds[0]: must be a security group id",
		"notebookTemplates[2].roleArn: required",
		"notebookTemplates[2].maxPerUser: must be between 0",
		`notebookTemplates[2].tags: "sagegate:user": keys starting with sagegate: or aws: are reserved`,
		`notebookTemplates[3].name: "small" is used by another template`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("missing problem %q in:\n%s", want, all)
		}
	}
	if strings.Contains(all, "notebookTemplates[0]") || strings.Contains(all, "notebookTemplates[1]") {
		t.Errorf("valid templates reported:\n%s", all)
	}

	u := User{Name: "alice", Notebooks: []NotebookRef{{Name: "nb"}, {LOB: "lob-a", Name: "nb"}, {LOB: "lob-a", Name: "nb"}}}
	msgs = nil
	for _, e := range u.Validate() {
		msgs = append(msgs, e.Error())
	}
	all = strings.Join(msgs, "\n")
	for _, want := range []string{"notebooks[0].lob: required", `notebooks[2]: notebook "nb" of "lob-a" is listed twice`} {
		if !strings.Contains(all, want) {
			t.Errorf("missing problem %q in:\n%s", want, all)
		}
	}
}

func TestTemplateExecutionRole(t *testing.T) {
	l := testLOB("lob-a", ProfileRuleSanitized)
	tpl := smallTemplate()
	if got, want := tpl.ExecutionRoleARN(l), "arn:aws:iam::123456789012:role/notebook-exec"; got != want {
		t.Errorf("ExecutionRoleARN = %q, want %q", got, want)
	}
	tpl.RoleARN = "arn:aws:iam::123456789012:role/x"
	if got := tpl.ExecutionRoleARN(l); got != tpl.RoleARN {
		t.Errorf("ExecutionRoleARN of an ARN = %q", got)
	}
	if tpl.VolumeSize() != 5 || tpl.MaxInstances() != 1 {
		t.Errorf("defaults: volume %d, max %d", tpl.VolumeSize(), tpl.MaxInstances())
	}
}
