package file_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/sagegate/sagegate/internal/identity"
	"github.com/sagegate/sagegate/internal/routing"
	"github.com/sagegate/sagegate/internal/routing/file"
)

var identityPrincipal = identity.Principal{Username: "bob", Groups: []string{"data-science"}}

var defaults = routing.Defaults{Region: "eu-west-1"}

// decode reads YAML into a Config the way the configuration loader does.
func decode(t *testing.T, doc string) file.Config {
	t.Helper()
	var c file.Config
	if err := yaml.UnmarshalStrict([]byte(doc), &c); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return c
}

func TestNewFromPath(t *testing.T) {
	s, err := file.New(file.Config{Path: filepath.Join("testdata", "routes.yaml")}, defaults)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	a, err := s.GetLOB(ctx, "lob-a")
	if err != nil {
		t.Fatal(err)
	}
	wantA := routing.LOB{
		Name:            "lob-a",
		AccountID:       "111122223333",
		Region:          "eu-west-1",
		DomainID:        "d-aaaaaaaaaaaa",
		RoleARN:         "arn:aws:iam::111122223333:role/sagegate-access",
		ProfileRule:     routing.ProfileRuleSanitized,
		SessionDuration: routing.Duration(8 * time.Hour),
		URLLifetime:     routing.Duration(5 * time.Second),
		Label:           "Team A",
	}
	if !reflect.DeepEqual(a, wantA) {
		t.Errorf("lob-a =\n%+v\nwant\n%+v", a, wantA)
	}
	cn, err := s.GetLOB(ctx, "lob-cn")
	if err != nil {
		t.Fatal(err)
	}
	if cn.Region != "cn-north-1" || cn.URLLifetime != routing.Duration(30*time.Second) || cn.Space != "shared" {
		t.Errorf("lob-cn = %+v", cn)
	}

	bob, err := s.GetUser(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if bob.Name != "bob" || bob.Profile != "bob-custom" || !slices.Equal(bob.LOBs, []string{"lob-cn", "lob-a"}) {
		t.Errorf("bob = %+v", bob)
	}
	if m, _ := s.GetUser(ctx, "mallory"); !m.Disabled {
		t.Errorf("mallory = %+v, want disabled", m)
	}
	g, err := s.GroupLOBs(ctx, "data-science")
	if err != nil || !slices.Equal(g, []string{"lob-cn", "lob-a"}) {
		t.Errorf("GroupLOBs = %q, %v", g, err)
	}
}

func TestInlineMatchesPath(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "routes.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	inline, err := file.New(decode(t, string(data)), defaults)
	if err != nil {
		t.Fatal(err)
	}
	fromPath, err := file.New(file.Config{Path: filepath.Join("testdata", "routes.yaml")}, defaults)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, name := range []string{"lob-a", "lob-cn"} {
		x, _ := inline.GetLOB(ctx, name)
		y, _ := fromPath.GetLOB(ctx, name)
		if !reflect.DeepEqual(x, y) {
			t.Errorf("%s inline %+v, from path %+v", name, x, y)
		}
	}
}

func TestStrictDecoding(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		doc     string
		wantErr string
	}{
		{name: "unknown LOB key", doc: "lobs:\n  a:\n    acountId: \"111122223333\"\n", wantErr: `unknown field "acountId"`},
		{name: "unknown user key", doc: "users:\n  bob:\n    lob: [a]\n", wantErr: `unknown field "lob"`},
		{name: "unknown top-level key", doc: "lob:\n  a: {}\n", wantErr: `unknown field "lob"`},
		{name: "path inside a routes file", doc: "path: other.yaml\n", wantErr: `unknown field "path"`},
		{name: "duplicate key", doc: "lobs:\n  a: {}\n  a: {}\n", wantErr: `"a" already set`},
		{name: "numeric duration", doc: "lobs:\n  a:\n    sessionDuration: 3600\n", wantErr: "cannot unmarshal 3600 into Go struct field LOB.lobs.sessionDuration of type routing.Duration"},
		{name: "bad duration", doc: "lobs:\n  a:\n    urlLifetime: 5 seconds\n", wantErr: `cannot unmarshal "5 seconds" into Go struct field LOB.lobs.urlLifetime`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".yaml")
			if err := os.WriteFile(path, []byte(tc.doc), 0o600); err != nil {
				t.Fatal(err)
			}
			c := file.Config{Path: path}
			_, err := file.New(c, defaults)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("New error = %v, want it to contain %q", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			errs := c.Validate(defaults)
			if len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.wantErr) {
				t.Errorf("Validate = %v, want one error containing %q", errs, tc.wantErr)
			}
		})
	}
}

func TestInlineStrictDecoding(t *testing.T) {
	var c file.Config
	err := yaml.UnmarshalStrict([]byte("lobs:\n  a:\n    acountId: \"1\"\n"), &c)
	if err == nil || !strings.Contains(err.Error(), `unknown field "acountId"`) {
		t.Errorf("error = %v, want unknown field", err)
	}
}

func TestPathErrors(t *testing.T) {
	tests := []struct {
		name    string
		c       file.Config
		wantErr string
	}{
		{
			name:    "path and inline",
			c:       file.Config{Path: filepath.Join("testdata", "routes.yaml"), Groups: map[string][]string{"g": {"lob-a"}}},
			wantErr: "path: cannot be combined with inline",
		},
		{
			name:    "missing file",
			c:       file.Config{Path: filepath.Join("testdata", "nope.yaml")},
			wantErr: "path: open",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs := tc.c.Validate(defaults)
			if len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.wantErr) {
				t.Errorf("Validate = %v, want one error containing %q", errs, tc.wantErr)
			}
			if _, err := file.New(tc.c, defaults); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("New error = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string // every error, in order
	}{
		{
			name: "valid",
			doc: `
lobs:
  lob-a: {accountId: "111122223333", domainId: d-a, roleArn: r}
users:
  bob: {lobs: [lob-a]}
groups:
  ds: [lob-a]
`,
		},
		{
			name: "empty config",
			doc:  `{}`,
		},
		{
			name: "every kind of problem, with paths",
			doc: `
lobs:
  lob-a: {accountId: "1234", domainId: d-a, roleArn: r}
  Bad: {accountId: "111122223333", domainId: d-b, roleArn: r}
  lob-c: {name: other, accountId: "111122223333", domainId: d-c, roleArn: r, profileRule: nope}
users:
  bob: {lobs: [lob-a, x, lob-c]}
  carol: {name: caroline, profile: "carol.c", lobs: [""]}
groups:
  ds: [lob-a, why]
  fin: [z]
`,
			want: []string{
				`lobs.Bad.name: must be`,
				`lobs.lob-a.accountId: must be 12 digits`,
				`lobs.lob-c.name: "other" does not match its key`,
				`lobs.lob-c.profileRule: must be one of`,
				`users.bob.lobs[1]: unknown LOB "x"`,
				`users.carol.name: "caroline" does not match its key`,
				`users.carol.profile: must be`,
				`users.carol.lobs[0]: empty LOB name`,
				`groups.ds[1]: unknown LOB "why"`,
				`groups.fin[0]: unknown LOB "z"`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := decode(t, tc.doc)
			errs := c.Validate(defaults)
			if len(errs) != len(tc.want) {
				t.Fatalf("Validate() = %d errors:\n%v\nwant %d:\n%s", len(errs), errors.Join(errs...), len(tc.want), strings.Join(tc.want, "\n"))
			}
			for i, err := range errs {
				if !strings.HasPrefix(err.Error(), tc.want[i]) {
					t.Errorf("error %d = %q, want prefix %q", i, err, tc.want[i])
				}
			}
			_, err := file.New(c, defaults)
			if (err == nil) != (len(tc.want) == 0) {
				t.Fatalf("New error = %v, want error: %v", err, len(tc.want) > 0)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("New error does not report %q", w)
				}
			}
		})
	}
}

func TestValidatePrefixesFileName(t *testing.T) {
	path := filepath.Join(t.TempDir(), "routes.yaml")
	doc := "lobs:\n  lob-a: {accountId: \"1\", domainId: d-a, roleArn: r}\n"
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	errs := file.Config{Path: path}.Validate(defaults)
	if len(errs) != 1 || errs[0].Error() != path+`: lobs.lob-a.accountId: must be 12 digits (quote it in YAML), got "1"` {
		t.Fatalf("Validate = %v", errs)
	}
	var fe *routing.FieldError
	if !errors.As(errs[0], &fe) || fe.Field != "lobs.lob-a.accountId" {
		t.Errorf("error %v does not carry the field path", errs[0])
	}
}

func TestStoreIsACopy(t *testing.T) {
	c := decode(t, `
lobs:
  lob-a: {accountId: "111122223333", domainId: d-a, roleArn: r}
  lob-b: {accountId: "111122223333", domainId: d-b, roleArn: r}
users:
  bob: {lobs: [lob-a]}
groups:
  ds: [lob-a]
`)
	s, err := file.New(c, defaults)
	if err != nil {
		t.Fatal(err)
	}
	// Changing the Config afterwards must not reach the store.
	c.Users["bob"].LOBs[0] = "lob-b"
	c.Groups["ds"][0] = "lob-b"
	l := c.LOBs["lob-a"]
	l.DomainID = "d-changed"
	c.LOBs["lob-a"] = l

	ctx := context.Background()
	if u, _ := s.GetUser(ctx, "bob"); u.LOBs[0] != "lob-a" {
		t.Errorf("user changed with the config: %q", u.LOBs)
	}
	if g, _ := s.GroupLOBs(ctx, "ds"); g[0] != "lob-a" {
		t.Errorf("group changed with the config: %q", g)
	}
	if got, _ := s.GetLOB(ctx, "lob-a"); got.DomainID != "d-a" {
		t.Errorf("LOB changed with the config: %+v", got)
	}
}

func TestResolverOverFileStore(t *testing.T) {
	s, err := file.New(file.Config{Path: filepath.Join("testdata", "routes.yaml")}, defaults)
	if err != nil {
		t.Fatal(err)
	}
	r := routing.NewResolver(s, nil)
	got, err := r.Targets(context.Background(), &identityPrincipal)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, tg := range got {
		ids = append(ids, tg.ID+"/"+tg.UserProfile)
	}
	if want := []string{"lob-cn/bob-custom", "lob-a/bob-custom"}; !slices.Equal(ids, want) {
		t.Errorf("targets = %q, want %q", ids, want)
	}
}

func BenchmarkGetLOB(b *testing.B) {
	s, err := file.New(file.Config{Path: filepath.Join("testdata", "routes.yaml")}, defaults)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.GetLOB(ctx, "lob-a"); err != nil {
			b.Fatal(err)
		}
	}
}

// A group listed with no LOBs exists, granting nothing; it reads back as []
// so that an export writes it back as a group, not as null.
func TestEmptyGroupExists(t *testing.T) {
	s, err := file.New(decode(t, `
lobs:
  lob-a: {accountId: "111122223333", domainId: d-aaaaaaaaaaaa, roleArn: "arn:aws:iam::111122223333:role/r"}
groups:
  empty: []
  none:
`), defaults)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, name := range []string{"empty", "none"} {
		g, err := s.GetGroup(ctx, name)
		if err != nil {
			t.Fatalf("GetGroup(%s): %v", name, err)
		}
		if g.Name != name || g.LOBs == nil || len(g.LOBs) != 0 {
			t.Errorf("GetGroup(%s) = %#v, want no LOBs, as []", name, g)
		}
		lobs, err := s.GroupLOBs(ctx, name)
		if err != nil || len(lobs) != 0 {
			t.Errorf("GroupLOBs(%s) = %v, %v; want none", name, lobs, err)
		}
	}
	page, err := s.ListGroups(ctx, routing.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range page.Items {
		names = append(names, g.Name)
	}
	if !slices.Equal(names, []string{"empty", "none"}) || len(page.Invalid) > 0 {
		t.Errorf("ListGroups = %v (invalid %v), want [empty none]", names, page.Invalid)
	}
	if _, err := s.GetGroup(ctx, "other"); !errors.Is(err, routing.ErrNotFound) {
		t.Errorf("GetGroup(other) = %v, want ErrNotFound", err)
	}
}
