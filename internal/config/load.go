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
	var probs Problems
	tree = expandEnv(tree, "", env, &probs)
	unknownKeys(tree, reflect.TypeFor[Config](), "", &probs)
	if len(probs) > 0 {
		// Decoding a tree with unknown keys would only add noise.
		return nil, probs
	}
	expanded, err := json.Marshal(tree)
	if err != nil {
		return nil, Problems{err}
	}
	var c Config
	if err := json.Unmarshal(expanded, &c); err != nil {
		return nil, Problems{decodeProblem(err)}
	}
	c.ApplyDefaults()
	if probs := c.Validate(); len(probs) > 0 {
		return nil, probs
	}
	return &c, nil
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

// unknownKeys walks the decoded tree alongside the Go type and reports every
// key the type does not have, with its path. encoding/json's own strict
// mode stops at the first one and does not say where it is.
func unknownKeys(v any, t reflect.Type, path string, probs *Problems) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]()) {
		// A type with its own UnmarshalJSON decides what it accepts.
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return // a type error; json.Unmarshal reports it
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
			unknownKeys(m[k], ft, join(path, k), probs)
		}
	case reflect.Map:
		if m, ok := v.(map[string]any); ok {
			for k, child := range m {
				unknownKeys(child, t.Elem(), join(path, k), probs)
			}
		}
	case reflect.Slice:
		if s, ok := v.([]any); ok {
			for i, child := range s {
				unknownKeys(child, t.Elem(), fmt.Sprintf("%s[%d]", path, i), probs)
			}
		}
	}
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
func decodeProblem(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("%s: want %s, got %s", te.Field, te.Type, te.Value)
	}
	return err
}
