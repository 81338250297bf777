package assemble

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/sagegate/sagegate/deploy/internal/templatecheck"
	"github.com/sagegate/sagegate/deploy/spec"
)

func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

const example = "../examples/two-accounts.json"

// dummyAsset is a stand-in for the built bootstrap zip: synth only hashes
// and copies it.
func dummyAsset(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bootstrap.zip")
	if err := WritePlaceholderZip(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// synth builds the example with context values into a cloud assembly and
// returns its templates by file name.
func synth(t *testing.T, ctx map[string]string) map[string]templatecheck.Template {
	t.Helper()
	ctx = maps(ctx, map[string]string{ContextDeployment: example, ContextLambdaAsset: dummyAsset(t)})
	opts, err := FromContext(func(k string) string { return ctx[k] }, false)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(dir)})
	if _, err := Build(app, opts.Deployment, opts.LambdaAsset); err != nil {
		t.Fatal(err)
	}
	app.Synth(nil)
	// Nothing is left for the cdk CLI to look up with credentials.
	manifest, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(manifest), `"missing"`) {
		t.Errorf("synth needs context lookups: %s", manifest)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.template.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]templatecheck.Template{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var tmpl templatecheck.Template
		if err := json.Unmarshal(raw, &tmpl); err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = tmpl
	}
	return out
}

func maps(a, defaults map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range defaults {
		out[k] = v
	}
	for k, v := range a {
		out[k] = v
	}
	return out
}

func statement(t *testing.T, tmpl templatecheck.Template, kind, sid string) templatecheck.Statement {
	t.Helper()
	for _, s := range templatecheck.Statements(tmpl) {
		if s.Kind == kind && s.Sid == sid {
			return s
		}
	}
	t.Fatalf("no %s statement %q", kind, sid)
	return templatecheck.Statement{}
}

func trustOf(t *testing.T, tmpl templatecheck.Template) []templatecheck.Statement {
	t.Helper()
	var out []templatecheck.Statement
	for _, s := range templatecheck.Statements(tmpl) {
		if s.Kind == templatecheck.Trust {
			out = append(out, s)
		}
	}
	return out
}

func TestTwoAccountExample(t *testing.T) {
	templates := synth(t, nil)

	var names []string
	for name := range templates {
		names = append(names, name)
	}
	slices.Sort(names)
	want := []string{
		"sagegate-gateway.template.json",
		"sagegate-lob-a-access.template.json", "sagegate-lob-a-studio.template.json", "sagegate-lob-a-vending.template.json",
		"sagegate-lob-b-access.template.json", "sagegate-lob-b-studio.template.json",
	}
	// The notebook product's own template sits beside them.
	if len(names) != len(want)+1 || !strings.HasSuffix(names[len(names)-1], ".product.template.json") {
		t.Fatalf("templates %q, want %q and a product template", names, want)
	}
	if got := names[:len(want)]; !slices.Equal(got, want) {
		t.Fatalf("templates %q, want %q", got, want)
	}

	t.Run("security rules hold in every template", func(t *testing.T) {
		for name, tmpl := range templates {
			for _, p := range templatecheck.Check(tmpl) {
				t.Errorf("%s: %s", name, p)
			}
		}
	})

	t.Run("the gateway may assume exactly the access roles of the listed accounts", func(t *testing.T) {
		s := statement(t, templates["sagegate-gateway.template.json"], templatecheck.Identity, "AssumeAccessRoles")
		want := []string{"arn:aws:iam::111111111111:role/sagegate-access", "arn:aws:iam::222222222222:role/sagegate-access"}
		if !slices.Equal(s.Resources, want) || !slices.Equal(s.Actions, []string{"sts:AssumeRole", "sts:SetSourceIdentity"}) {
			t.Errorf("gateway may %v on %v, want both actions on %v", s.Actions, s.Resources, want)
		}
	})

	t.Run("each access role trusts only the gateway's role with its external id", func(t *testing.T) {
		for account, externalID := range map[string]string{"lob-a": "sagegate-lob-a", "lob-b": "sagegate-lob-b"} {
			trust := trustOf(t, templates["sagegate-"+account+"-access.template.json"])
			if len(trust) != 2 {
				t.Fatalf("%s: %d trust statements, want AssumeRole and SetSourceIdentity", account, len(trust))
			}
			for _, s := range trust {
				got := s.Principals["AWS"]
				if !slices.Equal(got, []string{"arn:aws:iam::111111111111:role/sagegate-gateway"}) || len(s.Principals) != 1 {
					t.Errorf("%s trusts %v", account, s.Principals)
				}
				cond, _ := s.Condition["StringEquals"].(map[string]any)
				if cond["sts:ExternalId"] != externalID {
					t.Errorf("%s: %v needs external id %q, has %v", account, s.Actions, externalID, s.Condition)
				}
			}
		}
	})

	t.Run("lob-a's role opens its own domain; lob-b's the tagged ones", func(t *testing.T) {
		a := statement(t, templates["sagegate-lob-a-access.template.json"], templatecheck.Identity, "PresignStudio")
		if len(a.Resources) != 1 || !strings.HasPrefix(a.Resources[0], "arn:aws:sagemaker:eu-west-1:111111111111:user-profile/${Import:sagegate-lob-a-studio:") {
			t.Errorf("lob-a presigns for %v", a.Resources)
		}
		b := statement(t, templates["sagegate-lob-b-access.template.json"], templatecheck.Identity, "PresignStudio")
		cond, _ := b.Condition["StringEquals"].(map[string]any)
		if !slices.Equal(b.Resources, []string{"arn:aws:sagemaker:eu-west-1:222222222222:user-profile/*"}) || cond["aws:ResourceTag/sagegate:scope"] != "lob-b" {
			t.Errorf("lob-b presigns for %v if %v", b.Resources, b.Condition)
		}
		// Studio tags lob-b's domains, or the role could not open them.
		for id, d := range templatecheck.Resources(templates["sagegate-lob-b-studio.template.json"], "AWS::SageMaker::Domain") {
			if !strings.Contains(templatecheck.Render(d["Tags"]), `{"Key":"sagegate:scope","Value":"lob-b"}`) {
				t.Errorf("%s lacks the scope tag: %s", id, templatecheck.Render(d["Tags"]))
			}
		}
	})

	t.Run("lob-a's role may give new profiles its Studio execution role", func(t *testing.T) {
		pass := statement(t, templates["sagegate-lob-a-access.template.json"], templatecheck.Identity, "PassExecutionRoles")
		if len(pass.Resources) != 1 || !strings.HasPrefix(pass.Resources[0], "${Import:sagegate-lob-a-studio:") {
			t.Errorf("passes %v", pass.Resources)
		}
	})

	t.Run("the functions know every account's id", func(t *testing.T) {
		for id, fn := range templatecheck.Resources(templates["sagegate-gateway.template.json"], "AWS::Lambda::Function") {
			vars := fn["Environment"].(map[string]any)["Variables"].(map[string]any)
			if vars["SAGEGATE_ACCOUNT_LOB_A"] != "111111111111" || vars["SAGEGATE_ACCOUNT_LOB_B"] != "222222222222" {
				t.Errorf("%s: %v", id, vars)
			}
		}
	})
}

func TestAccountOverrides(t *testing.T) {
	templates := synth(t, map[string]string{"account:gateway": "333333333333", "account:lob-b": "444444444444"})
	s := statement(t, templates["sagegate-gateway.template.json"], templatecheck.Identity, "AssumeAccessRoles")
	want := []string{"arn:aws:iam::111111111111:role/sagegate-access", "arn:aws:iam::444444444444:role/sagegate-access"}
	if !slices.Equal(s.Resources, want) {
		t.Errorf("gateway assumes %v, want %v", s.Resources, want)
	}
	for _, st := range trustOf(t, templates["sagegate-lob-b-access.template.json"]) {
		if !slices.Equal(st.Principals["AWS"], []string{"arn:aws:iam::333333333333:role/sagegate-gateway"}) {
			t.Errorf("lob-b trusts %v", st.Principals)
		}
	}
	// lob-a vends notebooks but is no longer the gateway's account: its
	// events now cross accounts through the gateway's bus.
	policies := templatecheck.Resources(templates["sagegate-gateway.template.json"], "AWS::Events::EventBusPolicy")
	if len(policies) != 1 {
		t.Fatalf("%d event bus policies, want 1 for lob-a", len(policies))
	}
	for _, p := range policies {
		if got := templatecheck.Render(p["Statement"].(map[string]any)["Principal"]); got != `{"AWS":"arn:aws:iam::111111111111:root"}` {
			t.Errorf("bus policy principal %s", got)
		}
	}
}

func TestFromContext(t *testing.T) {
	get := func(ctx map[string]string) func(string) string {
		ctx = maps(ctx, map[string]string{ContextDeployment: example})
		return func(k string) string { return ctx[k] }
	}

	_, err := FromContext(get(map[string]string{"account:lob-a": "12345", ContextLambdaAsset: dummyAsset(t)}), false)
	var probs spec.Problems
	if !errors.As(err, &probs) || !strings.Contains(err.Error(), `accounts[0].id: "12345" is not a 12-digit account id`) {
		t.Errorf("bad override: %v", err)
	}

	missing := filepath.Join(t.TempDir(), "nothing.zip")
	if _, err := FromContext(get(map[string]string{ContextLambdaAsset: missing}), false); err == nil || !strings.Contains(err.Error(), "-c lambdaAsset=") {
		t.Errorf("missing asset without placeholder: %v", err)
	}

	opts, err := FromContext(get(map[string]string{ContextLambdaAsset: missing}), true)
	if err != nil {
		t.Fatal(err)
	}
	if !opts.Placeholder || opts.WantedAsset != missing {
		t.Errorf("placeholder %v for %q", opts.Placeholder, opts.WantedAsset)
	}
	first, err := os.ReadFile(opts.LambdaAsset)
	if err != nil {
		t.Fatal(err)
	}
	// The same bytes every time, so the templates do not change.
	again := filepath.Join(t.TempDir(), "again.zip")
	if err := WritePlaceholderZip(again); err != nil {
		t.Fatal(err)
	}
	if second, _ := os.ReadFile(again); string(first) != string(second) {
		t.Error("placeholder zips differ between runs")
	}
	opts.Cleanup()
	if _, err := os.Stat(opts.LambdaAsset); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("placeholder left behind: %v", err)
	}

	if opts, err := FromContext(get(nil), true); err != nil || opts.WantedAsset != filepath.Join("..", "dist", "lambda", "arm64", "bootstrap.zip") {
		t.Errorf("default asset: %v, %v", opts, err)
	} else {
		opts.Cleanup()
	}
}
