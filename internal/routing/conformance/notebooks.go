package conformance

import (
	"context"
	"reflect"
	"testing"

	"github.com/sagegate/sagegate/internal/routing"
)

// lobWithNotebooks is lobC with a shared notebook and a vending template.
func lobWithNotebooks() routing.LOB {
	l := lobC()
	l.Name = "lob-nb"
	l.Notebooks = []routing.NotebookRef{{Name: "team-notebook", Label: "Team notebook"}}
	l.NotebookTemplates = []routing.NotebookTemplate{{
		Name: "small", Label: "Small notebook", InstanceTypes: []string{"ml.t3.medium", "ml.t3.large"},
		VolumeSizeGB: 20, LifecycleConfig: "idle-stop", KMSKeyID: "alias/notebooks",
		SubnetID: "subnet-0123456789abcdef0", SecurityGroupIDs: []string{"sg-0123456789abcdef0"},
		RoleARN: "notebook-exec", MaxPerUser: 2, Tags: map[string]string{"cost-center": "42"},
	}}
	return l
}

// testNotebooks checks that notebook records round-trip: a LOB's shared
// notebooks and templates, and a person's own notebooks, created and
// updated.
func testNotebooks(t *testing.T, s routing.Store) {
	ctx := context.Background()
	l := lobWithNotebooks()
	if err := s.CreateLOB(ctx, l); err != nil {
		t.Fatalf("CreateLOB with notebooks: %v", err)
	}
	got, err := s.GetLOB(ctx, l.Name)
	if err != nil || !reflect.DeepEqual(got, l) {
		t.Errorf("GetLOB =\n%+v, %v\nwant\n%+v", got, err, l)
	}

	erin := routing.User{Name: "erin", LOBs: []string{"lob-a"}, Notebooks: []routing.NotebookRef{
		{LOB: "lob-nb", Name: "small-erin", Template: "small"},
	}}
	if err := s.CreateUser(ctx, erin); err != nil {
		t.Fatalf("CreateUser with notebooks: %v", err)
	}
	added := routing.NotebookRef{LOB: "lob-a", Name: "sc-erin", Label: "From Service Catalog"}
	if err := s.UpdateUser(ctx, "erin", func(u routing.User) (routing.User, error) {
		u.Notebooks = append(u.Notebooks, added)
		return u, nil
	}); err != nil {
		t.Fatalf("UpdateUser adding a notebook: %v", err)
	}
	u, err := s.GetUser(ctx, "erin")
	want := append(erin.Notebooks, added)
	if err != nil || !reflect.DeepEqual(u.Notebooks, want) || !equalUser(u, erin) {
		t.Errorf("GetUser = %+v, %v; want notebooks %+v", u, err, want)
	}

	// A notebook without its LOB is refused like any invalid field.
	err = s.UpdateUser(ctx, "erin", func(u routing.User) (routing.User, error) {
		u.Notebooks = append(u.Notebooks, routing.NotebookRef{Name: "orphan"})
		return u, nil
	})
	checkInvalid(t, "UpdateUser", "erin", "notebooks[2].lob", err)
	bad := lobWithNotebooks()
	bad.Name = "lob-nb2"
	bad.NotebookTemplates[0].InstanceTypes = nil
	checkInvalid(t, "CreateLOB", "lob-nb2", "notebookTemplates[0].instanceTypes", s.CreateLOB(ctx, bad))

	// Removing every notebook leaves none behind.
	if err := s.UpdateUser(ctx, "erin", func(u routing.User) (routing.User, error) {
		u.Notebooks = nil
		return u, nil
	}); err != nil {
		t.Fatal(err)
	}
	if u, _ := s.GetUser(ctx, "erin"); len(u.Notebooks) != 0 {
		t.Errorf("notebooks after removing them all = %+v", u.Notebooks)
	}
}

// testNotebooksCallerOwns checks that changing returned notebook records
// leaves the store alone.
func testNotebooksCallerOwns(t *testing.T, s routing.Store) {
	ctx := context.Background()
	if err := s.CreateLOB(ctx, lobWithNotebooks()); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, routing.User{Name: "frank", Notebooks: []routing.NotebookRef{{LOB: "lob-nb", Name: "nb-frank"}}}); err != nil {
		t.Fatal(err)
	}
	l, _ := s.GetLOB(ctx, "lob-nb")
	l.Notebooks[0].Name = "changed"
	l.NotebookTemplates[0].InstanceTypes[0] = "changed"
	l.NotebookTemplates[0].Tags["cost-center"] = "changed"
	u, _ := s.GetUser(ctx, "frank")
	u.Notebooks[0].Name = "changed"

	if l, _ := s.GetLOB(ctx, "lob-nb"); !reflect.DeepEqual(l, lobWithNotebooks()) {
		t.Errorf("changing a returned LOB changed the store: %+v", l)
	}
	if u, _ := s.GetUser(ctx, "frank"); u.Notebooks[0].Name != "nb-frank" {
		t.Errorf("changing a returned user changed the store: %+v", u.Notebooks)
	}
}
