package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// Problems is every problem found in a configuration, in file order where
// that is known. Its Error lists them one per line.
type Problems []error

func (p Problems) Error() string {
	lines := make([]string, len(p))
	for i, e := range p {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// LookupEnv is os.LookupEnv's shape, injected so tests control the env.
type LookupEnv func(string) (string, bool)

// Load reads, expands, decodes and validates the file at path.
func Load(path string, env LookupEnv) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data, env)
}

// Parse decodes YAML (or JSON) configuration strictly: unknown keys, type
// mismatches, unset environment variables and every Validate problem are
// all reported together, so one run of `sagegate config check` shows
// everything to fix.
func Parse(data []byte, env LookupEnv) (*Config, error) {
	return parse(data, env, true)
}

// LoadForRoutesAdmin is Load for `sagegate routes`: a routes file holding
// invalid records still loads, so that the CLI can list and repair them.
// Every other problem fails as with Load.
func LoadForRoutesAdmin(path string, env LookupEnv) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parse(data, env, false)
}

func parse(data []byte, env LookupEnv, strictRoutes bool) (*Config, error) {
	if env == nil {
		env = os.LookupEnv
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, Problems{fmt.Errorf("not valid YAML: %w", err)}
	}
	var tree any
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	if err := dec.Decode(&tree); err != nil {
		return nil, Problems{fmt.Errorf("not valid YAML: %w", err)}
	}
	if tree == nil {
		tree = map[string]any{}
	}
	if _, ok := tree.(map[string]any); !ok {
		// "0" or "[a]" is valid YAML but no configuration (found by FuzzParse).
		return nil, Problems{errors.New("not a configuration: the document must be a mapping of sections such as identity, aws and routing")}
	}
	var probs Problems
	tree = expandEnv(tree, "", env, &probs)
	tree = conform(tree, reflect.TypeFor[Config](), "", &probs)
	if len(probs) > 0 {
		// Decoding a tree with unknown keys would only add noise.
		return nil, probs
	}
	c, probs := decodeSections(tree.(map[string]any))
	if len(probs) > 0 {
		return nil, probs
	}
	c.ApplyDefaults()
	if probs := c.validate(strictRoutes); len(probs) > 0 {
		return nil, probs
	}
	return c, nil
}

// decodeSections decodes each top-level section on its own, because
// encoding/json stops at the first type error: this way every section
// with a wrong type is reported in one run.
func decodeSections(tree map[string]any) (*Config, Problems) {
	var c Config
	var probs Problems
	v := reflect.ValueOf(&c).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		section, ok := tree[name]
		if !ok {
			continue
		}
		b, err := json.Marshal(section)
		if err == nil {
			err = json.Unmarshal(b, v.Field(i).Addr().Interface())
		}
		if err != nil {
			probs = append(probs, decodeProblem(name, err))
		}
	}
	return &c, probs
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandEnv replaces ${NAME} in string values only, after YAML parsing, so
// an environment value can never change the document's structure. "$${"
// escapes a literal "${".
func expandEnv(v any, path string, env LookupEnv, probs *Problems) any {
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			t[k] = expandEnv(child, join(path, k), env, probs)
		}
	case []any:
		for i, child := range t {
			t[i] = expandEnv(child, fmt.Sprintf("%s[%d]", path, i), env, probs)
		}
	case string:
		const escaped = "\x00dollar-brace\x00"
		s := strings.ReplaceAll(t, "$${", escaped)
		s = envRef.ReplaceAllStringFunc(s, func(ref string) string {
			name := envRef.FindStringSubmatch(ref)[1]
			val, ok := env(name)
			if !ok {
				*probs = append(*probs, fmt.Errorf("%s: environment variable %s is not set", path, name))
			}
			return val
		})
		return strings.ReplaceAll(s, escaped, "${")
	}
	return v
}

// conform walks the decoded tree alongside the Go type. It reports every
// key the type does not have, with its path (encoding/json's strict mode
// stops at the first and does not say where it is), and turns an unquoted
// YAML number into a string where the field is a string, so that
// `accountId: 111111111111` reads as people expect.
func conform(v any, t reflect.Type, path string, probs *Problems) any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]()) {
		// A type with its own UnmarshalJSON decides what it accepts.
		return v
	}
	switch t.Kind() {
	case reflect.String:
		if n, ok := v.(json.Number); ok {
			return n.String()
		}
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return v // a type error; decoding reports it
		}
		fields := jsonFields(t)
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ft, ok := fields[k]
			if !ok {
				*probs = append(*probs, fmt.Errorf("%s: unknown key", join(path, k)))
				continue
			}
			m[k] = conform(m[k], ft, join(path, k), probs)
		}
	case reflect.Map:
		if m, ok := v.(map[string]any); ok {
			for k, child := range m {
				m[k] = conform(child, t.Elem(), join(path, k), probs)
			}
		}
	case reflect.Slice:
		if s, ok := v.([]any); ok {
			for i, child := range s {
				s[i] = conform(child, t.Elem(), fmt.Sprintf("%s[%d]", path, i), probs)
			}
		}
	}
	return v
}

// jsonFields maps the json names of a struct's fields to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// decodeProblem rewrites encoding/json's errors into "path: problem".
func decodeProblem(section string, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		want := te.Type.String()
		switch te.Type.Kind() {
		case reflect.Int, reflect.Int32, reflect.Int64:
			want = "a whole number"
		case reflect.String:
			want = "a string"
		case reflect.Bool:
			want = "true or false"
		case reflect.Slice:
			want = "a list"
		case reflect.Struct, reflect.Map:
			want = "a mapping"
		}
		if te.Type == reflect.TypeFor[Duration]() {
			want = `a duration such as "30s" or "12h"`
		}
		return fmt.Errorf("%s: want %s, got %s", join(section, te.Field), want, te.Value)
	}
	return fmt.Errorf("%s: %w", section, err)
}
