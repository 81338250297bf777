package file_test

import (
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/sagegate/sagegate/internal/routing"
	"github.com/sagegate/sagegate/internal/routing/conformance"
	"github.com/sagegate/sagegate/internal/routing/file"
)

// TestConformance runs the suite against a routes file, which the store
// rewrites on every change; bad records are written into the file as a
// person with an editor would.
func TestConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T, s conformance.Seed) routing.Store {
		doc := map[string]any{"lobs": map[string]routing.LOB{}, "users": map[string]routing.User{}, "groups": s.Groups}
		for _, l := range append(s.LOBs, s.BadLOBs...) {
			doc["lobs"].(map[string]routing.LOB)[l.Name] = l
		}
		for _, u := range s.Users {
			doc["users"].(map[string]routing.User)[u.Name] = u
		}
		data, err := yaml.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "routes.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		store, err := file.Open(file.Config{Path: path}, routing.Defaults{})
		if err != nil {
			t.Fatal(err)
		}
		return store
	})
}
