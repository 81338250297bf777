package session

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of a cookie key: AES-256.
const KeySize = 32

// codecVersion prefixes every sealed value so the format can change later
// without mistaking old cookies for new ones.
const codecVersion byte = 1

// ErrInvalidCookie is returned when a cookie value cannot be opened: it was
// tampered with, sealed with a key we no longer hold, sealed for another
// cookie name, or is not ours at all. The reasons are deliberately not
// distinguished; a caller can do nothing different for any of them.
var ErrInvalidCookie = errors.New("session: cookie cannot be opened")

// Codec seals and opens cookie values with AES-256-GCM. The first key seals;
// every key opens, so a new key can be put first while the old one still
// opens cookies issued before the rotation.
type Codec struct {
	aeads []cipher.AEAD
	// csrfKeys are derived per cookie key so the AES key is never used
	// directly as an HMAC key for a second purpose.
	csrfKeys [][]byte
}

// NewCodec builds a Codec from one or more 32-byte keys, newest first.
func NewCodec(keys [][]byte) (*Codec, error) {
	if len(keys) == 0 {
		return nil, errors.New("session: at least one cookie key is required")
	}
	c := &Codec{}
	for i, k := range keys {
		if len(k) != KeySize {
			return nil, fmt.Errorf("session: cookie key %d is %d bytes; it must be exactly %d bytes (generate one with `openssl rand -base64 32`)", i+1, len(k), KeySize)
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("session: cookie key %d: %w", i+1, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("session: cookie key %d: %w", i+1, err)
		}
		c.aeads = append(c.aeads, aead)
		c.csrfKeys = append(c.csrfKeys, deriveKey(k, "sagegate csrf v1"))
	}
	return c, nil
}

// KeyFromString decodes a key written in configuration: base64 in the
// standard or URL alphabet, padded or not, of exactly 32 bytes. The error
// never repeats the input, which is a secret.
func KeyFromString(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("session: cookie key is empty; set it to base64 of 32 random bytes (e.g. `openssl rand -base64 32`)")
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(b) != KeySize {
			return nil, fmt.Errorf("session: cookie key decodes to %d bytes; it must be base64 of exactly %d bytes (e.g. `openssl rand -base64 32`)", len(b), KeySize)
		}
		return b, nil
	}
	return nil, fmt.Errorf("session: cookie key is not valid base64 (standard or URL alphabet); it must be base64 of exactly %d bytes (e.g. `openssl rand -base64 32`)", KeySize)
}

// Seal encrypts plaintext for the cookie called name. The name is bound as
// associated data, so a value cut from one cookie and pasted into another
// (say, the login cookie into the session cookie) does not open.
func (c *Codec) Seal(name string, plaintext []byte) (string, error) {
	aead := c.aeads[0]
	nonce := make([]byte, aead.NonceSize(), 1+aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("session: random nonce: %w", err)
	}
	out := append([]byte{codecVersion}, nonce...)
	out = aead.Seal(out, nonce, plaintext, associatedData(name))
	return base64.RawURLEncoding.EncodeToString(out), nil
}

// Open reverses Seal. Any failure is ErrInvalidCookie.
func (c *Codec) Open(name, value string) ([]byte, error) {
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || len(raw) < 1 || raw[0] != codecVersion {
		return nil, ErrInvalidCookie
	}
	raw = raw[1:]
	ad := associatedData(name)
	for _, aead := range c.aeads {
		ns := aead.NonceSize()
		if len(raw) < ns+aead.Overhead() {
			return nil, ErrInvalidCookie
		}
		if pt, err := aead.Open(nil, raw[:ns], raw[ns:], ad); err == nil {
			return pt, nil
		}
	}
	return nil, ErrInvalidCookie
}

// csrfMACs returns the MAC of msg under every key, newest first: the first
// is what we issue, any of them is accepted.
func (c *Codec) csrfMACs(msg string) [][]byte {
	out := make([][]byte, 0, len(c.csrfKeys))
	for _, k := range c.csrfKeys {
		m := hmac.New(sha256.New, k)
		m.Write([]byte(msg))
		out = append(out, m.Sum(nil))
	}
	return out
}

func associatedData(name string) []byte {
	return []byte("sagegate cookie v1\x00" + name)
}

func deriveKey(key []byte, purpose string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}
