package oidclogin

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sagegate/sagegate/internal/testutil"
)

func TestCache(t *testing.T) {
	clock := testutil.NewClock(time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC))
	c := Cache{Dir: filepath.Join(t.TempDir(), "sagegate"), Now: clock.Now}
	key := CacheKey("http://127.0.0.1:8080", "", "")
	if key == CacheKey("http://127.0.0.1:8081", "", "") || key == CacheKey("http://127.0.0.1:8080", "https://idp", "") {
		t.Fatal("cache keys collide across servers or providers")
	}
	if _, ok := c.Load(key); ok {
		t.Fatal("empty cache hit")
	}
	tok := Token{Raw: "tok", Expiry: clock.Now().Add(time.Hour)}
	if err := c.Store(key, tok); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(c.path(key))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("file mode %v %v", fi.Mode(), err)
	}
	if di, _ := os.Stat(c.Dir); di.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode %v", di.Mode())
	}
	if got, ok := c.Load(key); !ok || got.Raw != "tok" || !got.Expiry.Equal(tok.Expiry) {
		t.Fatalf("Load = %+v %v", got, ok)
	}

	// Handed out until a minute before expiry, not after.
	clock.Advance(time.Hour - expiryMargin - time.Second)
	if _, ok := c.Load(key); !ok {
		t.Fatal("token dropped before the margin")
	}
	clock.Advance(time.Second)
	if _, ok := c.Load(key); ok {
		t.Fatal("token handed out within the margin of its expiry")
	}

	// An already expired token is not written.
	if err := c.Store("other", Token{Raw: "old", Expiry: clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.path("other")); !os.IsNotExist(err) {
		t.Fatalf("expired token stored: %v", err)
	}

	// A file others may read is not trusted, and goes.
	if err := c.Store(key, Token{Raw: "tok2", Expiry: clock.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(c.path(key), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Load(key); ok {
		t.Fatal("world-readable token used")
	}
	if _, err := os.Stat(c.path(key)); !os.IsNotExist(err) {
		t.Fatal("world-readable token file kept")
	}

	if err := c.Store(key, Token{Raw: "tok3", Expiry: clock.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(key); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Load(key); ok {
		t.Fatal("deleted token loaded")
	}
	if err := c.Delete(key); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(c.Dir, ".token-*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

func TestCacheStoreAndLoadFailures(t *testing.T) {
	clock := testutil.NewClock(time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC))
	tok := Token{Raw: "tok", Expiry: clock.Now().Add(time.Hour)}
	// The cache directory cannot be made: a file is in the way.
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := (Cache{Dir: filepath.Join(blocker, "sagegate"), Now: clock.Now}).Store("k", tok); err == nil {
		t.Error("Store under a regular file succeeded")
	}
	// A cache file that is not a token is a miss.
	c := Cache{Dir: t.TempDir(), Now: clock.Now}
	if err := os.WriteFile(c.path("k"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, ok := c.Load("k"); ok {
		t.Errorf("corrupt cache file loaded as %+v", got)
	}
}
