package session

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestCodecRoundTrip(t *testing.T) {
	c := testCodec(t)
	for _, pt := range [][]byte{{}, []byte("x"), bytes.Repeat([]byte("session"), 300)} {
		v, err := c.Seal("n", pt)
		if err != nil {
			t.Fatal(err)
		}
		// A cookie value: unpadded base64url of version, 12-byte nonce,
		// ciphertext as long as the plaintext, and 16-byte tag.
		raw, err := base64.RawURLEncoding.Strict().DecodeString(v)
		if err != nil {
			t.Fatalf("Seal produced %q, not unpadded base64url: %v", v, err)
		}
		if want := 1 + 12 + len(pt) + 16; len(raw) != want {
			t.Errorf("sealed %d bytes into %d, want %d", len(pt), len(raw), want)
		} else if raw[0] != codecVersion {
			t.Errorf("sealed value has version %d, want %d", raw[0], codecVersion)
		}
		got, err := c.Open("n", v)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if !bytes.Equal(got, pt) {
			t.Fatalf("round trip changed the payload")
		}
	}
}

func TestCodecSealIsRandomized(t *testing.T) {
	c := testCodec(t)
	a, _ := c.Seal("n", []byte("same"))
	b, _ := c.Seal("n", []byte("same"))
	if a == b {
		t.Fatal("two seals of the same plaintext are identical: nonce reuse")
	}
}

func TestCodecRejectsTampering(t *testing.T) {
	c := testCodec(t)
	v, err := c.Seal("n", []byte(`{"p":{"username":"alice"}}`))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(v)
	// Flip one bit in every byte position in turn: version, nonce,
	// ciphertext and tag must all be covered.
	for i := range raw {
		bad := bytes.Clone(raw)
		bad[i] ^= 0x01
		if _, err := c.Open("n", base64.RawURLEncoding.EncodeToString(bad)); !errors.Is(err, ErrInvalidCookie) {
			t.Fatalf("byte %d flipped: Open err = %v, want ErrInvalidCookie", i, err)
		}
	}
	for name, bad := range map[string]string{
		"empty":      "",
		"not base64": "!!!",
		"truncated":  v[:len(v)-4],
		"short":      base64.RawURLEncoding.EncodeToString([]byte{codecVersion, 1, 2, 3}),
		"extended":   v + "AAAA",
	} {
		if _, err := c.Open("n", bad); !errors.Is(err, ErrInvalidCookie) {
			t.Errorf("%s: Open err = %v, want ErrInvalidCookie", name, err)
		}
	}
}

func TestCodecWrongKey(t *testing.T) {
	v, _ := testCodec(t, testKey(t, 1)).Seal("n", []byte("x"))
	if _, err := testCodec(t, testKey(t, 2)).Open("n", v); !errors.Is(err, ErrInvalidCookie) {
		t.Fatalf("Open with another key: err = %v, want ErrInvalidCookie", err)
	}
}

func TestCodecRotation(t *testing.T) {
	oldKey, newKey := testKey(t, 1), testKey(t, 2)
	old := testCodec(t, oldKey)
	rotated := testCodec(t, newKey, oldKey)
	newOnly := testCodec(t, newKey)

	issuedBefore, _ := old.Seal("n", []byte("before"))
	if got, err := rotated.Open("n", issuedBefore); err != nil || string(got) != "before" {
		t.Fatalf("rotated codec cannot open a cookie sealed with the old key: %v", err)
	}
	issuedAfter, _ := rotated.Seal("n", []byte("after"))
	if _, err := newOnly.Open("n", issuedAfter); err != nil {
		t.Fatalf("rotated codec did not seal with the first (new) key: %v", err)
	}
	if _, err := old.Open("n", issuedAfter); err == nil {
		t.Fatal("old key opened a cookie sealed after rotation")
	}
}

func TestCodecBindsCookieName(t *testing.T) {
	c := testCodec(t)
	v, _ := c.Seal("sagegate_login_ABC", []byte("x"))
	if _, err := c.Open("sagegate_session", v); !errors.Is(err, ErrInvalidCookie) {
		t.Fatalf("value moved to another cookie name opened: err = %v", err)
	}
}

func TestNewCodecValidatesKeys(t *testing.T) {
	for name, keys := range map[string][][]byte{
		"none":       nil,
		"short":      {make([]byte, 16)},
		"long":       {make([]byte, 33)},
		"second bad": {make([]byte, 32), make([]byte, 31)},
	} {
		if _, err := NewCodec(keys); err == nil {
			t.Errorf("%s: NewCodec accepted invalid keys", name)
		}
	}
}

func TestKeyFromString(t *testing.T) {
	// These bytes encode to '+' and '/' in the standard alphabet and '-'
	// and '_' in the URL one, so both alphabets are really exercised.
	key := bytes.Repeat([]byte{0xfb, 0xef, 0xff, 0x3e}, KeySize/4)
	if std := base64.StdEncoding.EncodeToString(key); !strings.ContainsAny(std, "+/") {
		t.Fatalf("test key does not exercise the alphabets: %s", std)
	}
	for name, s := range map[string]string{
		"std":          base64.StdEncoding.EncodeToString(key),
		"std raw":      base64.RawStdEncoding.EncodeToString(key),
		"url":          base64.URLEncoding.EncodeToString(key),
		"url raw":      base64.RawURLEncoding.EncodeToString(key),
		"spaces/lines": "  " + base64.StdEncoding.EncodeToString(key) + "\n",
	} {
		got, err := KeyFromString(s)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !bytes.Equal(got, key) {
			t.Errorf("%s: decoded a different key", name)
		}
	}
	secret := "c2VjcmV0LXRoYXQtaXMtdG9vLXNob3J0"
	for name, s := range map[string]string{
		"empty":      "",
		"short":      secret,
		"not base64": "this is not base64 at all!",
		"hex":        strings.Repeat("ab", 32),
	} {
		_, err := KeyFromString(s)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("%s: error repeats the secret input: %v", name, err)
		}
		if !strings.Contains(err.Error(), "32 bytes") && name != "empty" {
			t.Errorf("%s: error does not say what is expected: %v", name, err)
		}
	}
}
