// Package templatecheck reads synthesized CloudFormation templates and
// reports security problems: wildcard actions and resources, trust
// policies without exact principals, unencrypted or public storage, log
// groups without retention. The stacks' tests run it over every template,
// so a construct added later is held to the same rules.
package templatecheck

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Template is a synthesized CloudFormation template.
type Template = map[string]any

// Kinds of policy statements.
const (
	Identity = "identity" // what a role may do
	Trust    = "trust"    // who may assume a role
	Resource = "resource" // who may use a bucket, queue, topic, API, bus
	Key      = "key"      // KMS key policies
)

// Statement is one policy statement, with intrinsic functions rendered as
// text (see Render).
type Statement struct {
	Logical    string // logical id of the resource holding it
	Kind       string
	Sid        string
	Effect     string
	Actions    []string
	Resources  []string
	Principals map[string][]string // "AWS", "Service", "Federated", "*"
	Condition  map[string]any
}

func (s Statement) String() string {
	return fmt.Sprintf("%s %s statement %q (%s %v on %v)", s.Logical, s.Kind, s.Sid, s.Effect, s.Actions, s.Resources)
}

// Resources returns the resources of a type, by logical id.
func Resources(t Template, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	res, _ := t["Resources"].(map[string]any)
	for id, r := range res {
		m, _ := r.(map[string]any)
		if m["Type"] == typ {
			props, _ := m["Properties"].(map[string]any)
			if props == nil {
				props = map[string]any{}
			}
			out[id] = props
		}
	}
	return out
}

// Statements collects every policy statement of a template.
func Statements(t Template) []Statement {
	var out []Statement
	add := func(logical, kind string, doc any) {
		out = append(out, parseDocument(logical, kind, doc)...)
	}
	for id, p := range Resources(t, "AWS::IAM::Role") {
		add(id, Trust, p["AssumeRolePolicyDocument"])
		for _, pol := range list(p["Policies"]) {
			if m, ok := pol.(map[string]any); ok {
				add(id, Identity, m["PolicyDocument"])
			}
		}
	}
	for _, typ := range []string{"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"} {
		for id, p := range Resources(t, typ) {
			add(id, Identity, p["PolicyDocument"])
		}
	}
	for _, typ := range []string{"AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy"} {
		for id, p := range Resources(t, typ) {
			add(id, Resource, p["PolicyDocument"])
		}
	}
	for id, p := range Resources(t, "AWS::ApiGateway::RestApi") {
		if p["Policy"] != nil {
			add(id, Resource, p["Policy"])
		}
	}
	for id, p := range Resources(t, "AWS::Events::EventBusPolicy") {
		add(id, Resource, map[string]any{"Statement": []any{p["Statement"]}})
	}
	for id, p := range Resources(t, "AWS::KMS::Key") {
		add(id, Key, p["KeyPolicy"])
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Logical < out[j].Logical })
	return out
}

func parseDocument(logical, kind string, doc any) []Statement {
	m, _ := doc.(map[string]any)
	var out []Statement
	for _, raw := range list(m["Statement"]) {
		st, _ := raw.(map[string]any)
		s := Statement{Logical: logical, Kind: kind, Principals: map[string][]string{}}
		s.Sid, _ = st["Sid"].(string)
		s.Effect, _ = st["Effect"].(string)
		s.Actions = strings1(st["Action"])
		s.Resources = strings1(st["Resource"])
		s.Condition, _ = st["Condition"].(map[string]any)
		switch p := st["Principal"].(type) {
		case string:
			s.Principals[p] = []string{p}
		case map[string]any:
			for k, v := range p {
				s.Principals[k] = strings1(v)
			}
		}
		out = append(out, s)
	}
	return out
}

// list treats a single value as a list of one, as policy grammar does.
func list(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	}
	return []any{v}
}

func strings1(v any) []string {
	var out []string
	for _, x := range list(v) {
		out = append(out, Render(x))
	}
	return out
}

// Render turns a template value into text: Fn::Join is joined, and other
// intrinsics become ${Ref:X}, ${X.Attr}, ${Import:name} placeholders, so a
// rendered ARN shows where a token sits and never reads as a wildcard.
func Render(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		if j, ok := x["Fn::Join"].([]any); ok && len(j) == 2 {
			sep, _ := j[0].(string)
			var parts []string
			for _, p := range list(j[1]) {
				parts = append(parts, Render(p))
			}
			return strings.Join(parts, sep)
		}
		if r, ok := x["Ref"].(string); ok {
			return "${Ref:" + r + "}"
		}
		if g, ok := x["Fn::GetAtt"].([]any); ok && len(g) == 2 {
			return fmt.Sprintf("${%v.%v}", g[0], g[1])
		}
		if i, ok := x["Fn::ImportValue"]; ok {
			return "${Import:" + Render(i) + "}"
		}
		if s, ok := x["Fn::Sub"].(string); ok {
			return s
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}
