package oidclogin

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// expiryMargin is how long before its expiry a cached token is no longer
// handed out, so it does not lapse between the check and the request.
const expiryMargin = time.Minute

// Cache keeps tokens in files readable by their owner only (0600 in a
// 0700 directory), one per server and client.
type Cache struct {
	Dir string
	Now func() time.Time
}

// DefaultCacheDir is <user cache dir>/sagegate, e.g. ~/.cache/sagegate.
func DefaultCacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "sagegate"), nil
}

// CacheKey names the cache entry of a token for server, obtained from
// issuer with clientID: a token for one gateway is never sent to another.
func CacheKey(server, issuer, clientID string) string {
	sum := sha256.Sum256([]byte(server + "\x00" + issuer + "\x00" + clientID))
	return hex.EncodeToString(sum[:16])
}

func (c Cache) path(key string) string { return filepath.Join(c.Dir, "token-"+key+".json") }

func (c Cache) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

// Load returns the cached token for key if it is still valid for a while.
// A file others could read is not trusted and is removed.
func (c Cache) Load(key string) (Token, bool) {
	p := c.path(key)
	fi, err := os.Lstat(p)
	if err != nil || !fi.Mode().IsRegular() {
		return Token{}, false
	}
	if fi.Mode().Perm()&0o077 != 0 {
		_ = os.Remove(p)
		return Token{}, false
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return Token{}, false
	}
	var t Token
	if err := json.Unmarshal(b, &t); err != nil || t.Raw == "" || !c.now().Add(expiryMargin).Before(t.Expiry) {
		return Token{}, false
	}
	return t, true
}

// Store writes t for key atomically. A token that is already expired is
// not stored.
func (c Cache) Store(key string, t Token) error {
	if !c.now().Add(expiryMargin).Before(t.Expiry) {
		return nil
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return fmt.Errorf("token cache: %w", err)
	}
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(c.Dir, ".token-*")
	if err != nil {
		return fmt.Errorf("token cache: %w", err)
	}
	defer os.Remove(f.Name())
	// CreateTemp makes the file 0600 already; Chmod says so explicitly in
	// case a platform's default differs.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("token cache: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("token cache: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("token cache: %w", err)
	}
	if err := os.Rename(f.Name(), c.path(key)); err != nil {
		return fmt.Errorf("token cache: %w", err)
	}
	return nil
}

// Delete forgets the token for key (the gateway refused it).
func (c Cache) Delete(key string) error {
	err := os.Remove(c.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
