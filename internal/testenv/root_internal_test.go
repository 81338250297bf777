package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRepoRootIsTheModuleRoot(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(RepoRoot(t), "go.mod"))
	if err != nil || !strings.HasPrefix(string(b), "module github.com/sagegate/sagegate\n") {
		t.Fatalf("go.mod at RepoRoot: %v %.40q", err, b)
	}
}

func TestFindRepoRootOutsideAModule(t *testing.T) {
	t.Chdir(t.TempDir())
	if dir, err := findRepoRoot(); err == nil {
		t.Fatalf("findRepoRoot outside a module = %q, want an error", dir)
	}
}
