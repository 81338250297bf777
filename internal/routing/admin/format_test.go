package admin

import (
	"bytes"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sagegate/sagegate/internal/routing"
)

func sampleRoutes() Routes {
	return Routes{
		LOBs: []routing.LOB{
			{Name: "lob-a", AccountID: "011122223333", DomainID: "d-aaaaaaaaaaaa", Label: "A, with a comma", SessionDuration: routing.Duration(8 * time.Hour)},
			{Name: "lob-b", AccountID: "444455556666", Region: "eu-west-1", RoleARN: "access", ExternalID: "x-1", ProfileRule: routing.ProfileRuleEmailLocal,
				URLLifetime: routing.Duration(30 * time.Second), PrivateSpace: true, LandingURI: "app:JupyterLab:lab", JITProfiles: true,
				ExecutionRole: "arn:aws:iam::444455556666:role/exec"},
		},
		Users: []routing.User{
			{Name: "alice@example.com", LOBs: []string{"lob-b", "lob-a"}, Profile: "alice"},
			{Name: "mallory", Disabled: true},
		},
		Groups: []routing.Group{{Name: "data science", LOBs: []string{"lob-a"}}, {Name: "empty", LOBs: []string{}}},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, format := range []string{FormatYAML, FormatCSV} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, format, sampleRoutes()); err != nil {
				t.Fatal(err)
			}
			got, err := Read(&buf, format)
			if err != nil {
				t.Fatalf("Read: %v\n%s", err, buf.String())
			}
			if !reflect.DeepEqual(got, sampleRoutes()) {
				t.Errorf("round trip =\n%+v\nwant\n%+v", got, sampleRoutes())
			}
		})
	}
}

// TestCSVCoversEveryLOBField keeps the CSV columns in step with the LOB
// type: a field added to LOB must get a column, or CSV exports lose it.
func TestCSVCoversEveryLOBField(t *testing.T) {
	typ := reflect.TypeFor[routing.LOB]()
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		if name != "name" && !slices.Contains(csvLOBCols, name) {
			t.Errorf("LOB field %q has no CSV column", name)
		}
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		format, doc, want string
	}{
		{FormatCSV, "kind,name,color\n", `unknown column "color"`},
		{FormatCSV, "kind,name\nrobot,x\n", "csv line 2: kind: want lob, user or group"},
		{FormatCSV, "kind,name,disabled\nuser,bob,maybe\n", "csv line 2: disabled: want true or false"},
		{FormatCSV, "kind,name,sessionDuration\nlob,a,3600\n", `csv line 2: lob "a"`},
		{FormatCSV, "kind,name\nuser,\n", "name: required"},
		{FormatYAML, "lobs:\n  a: {acountId: x}\n", `unknown field "acountId"`},
		{FormatYAML, "users:\n  bob: {name: robert}\n", `users.bob.name: "robert" does not match its key`},
	}
	for _, tc := range tests {
		_, err := Read(strings.NewReader(tc.doc), tc.format)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Read(%s %q) = %v, want %q", tc.format, tc.doc, err, tc.want)
		}
	}
}

func TestFieldDiff(t *testing.T) {
	a := routing.LOB{Name: "l", AccountID: "111122223333", ExternalID: "old-secret"}
	b := a
	b.Label, b.ExternalID = "New", "new-secret"
	got := fieldDiff(a, b)
	if got != `externalId changed, label (none) -> "New"` {
		t.Errorf("fieldDiff = %q", got)
	}
	if strings.Contains(got, "secret") {
		t.Error("the diff shows an external id")
	}
	if fieldDiff(a, a) != "" {
		t.Error("equal records differ")
	}
}
