package devidp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
)

func validOptions(t *testing.T) Options {
	return Options{
		Issuer: "http://127.0.0.1:8080/dev/oidc", Audience: "sagegate",
		Users: testUsers(), Clients: testClients(), Key: testKey(t),
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	smallRSA, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(*Options)
		want   []string // substrings of the error
	}{
		{"no issuer", func(o *Options) { o.Issuer = "" }, []string{"Issuer is required"}},
		{"relative issuer", func(o *Options) { o.Issuer = "/dev/oidc" }, []string{"scheme"}},
		{"issuer with query", func(o *Options) { o.Issuer = "http://h/x?a=b" }, []string{"query"}},
		{"unparsable issuer", func(o *Options) { o.Issuer = "http://h/%zz" }, []string{"opts.Issuer: parse"}},
		{"issuer without host", func(o *Options) { o.Issuer = "http:///dev/oidc" }, []string{"host is required"}},
		{"no audience", func(o *Options) { o.Audience = "" }, []string{"Audience"}},
		{"negative ttl", func(o *Options) { o.TokenTTL = -1 }, []string{"TokenTTL"}},
		{"no users", func(o *Options) { o.Users = nil }, []string{"at least one user"}},
		{"duplicate user", func(o *Options) { o.Users = append(o.Users, User{Username: "alice"}) }, []string{`duplicate Username "alice"`}},
		{"nameless user", func(o *Options) { o.Users = append(o.Users, User{}) }, []string{"Username is required"}},
		{"no clients", func(o *Options) { o.Clients = nil }, []string{"at least one client"}},
		{"duplicate client", func(o *Options) { o.Clients = append(o.Clients, Client{ID: webClient}) }, []string{"duplicate ID"}},
		{"client without ID", func(o *Options) { o.Clients = append(o.Clients, Client{}) }, []string{"opts.Clients[2]: ID is required"}},
		{"relative redirect", func(o *Options) { o.Clients[0].RedirectURIs = []string{"/cb"} }, []string{"not absolute"}},
		{"redirect fragment", func(o *Options) { o.Clients[0].RedirectURIs = []string{"https://a.test/cb#x"} }, []string{"fragment"}},
		{"every problem at once", func(o *Options) { o.Issuer, o.Audience, o.Users = "", "", nil },
			[]string{"Issuer", "Audience", "at least one user"}},
		{"P-384 key", func(o *Options) { o.Key = p384 }, []string{"P-256"}},
		{"Ed25519 key", func(o *Options) { o.Key = edKey }, []string{"unsupported key type"}},
		{"small RSA key", func(o *Options) { o.Key = smallRSA }, []string{"1024 bits"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := validOptions(t)
			opts.Clients = testClients()
			tt.mutate(&opts)
			_, err := New(opts)
			if !errors.Is(err, ErrInvalidOption) {
				t.Fatalf("err = %v, want ErrInvalidOption", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestUsersAreCopiesWithDefaultPassword(t *testing.T) {
	opts := validOptions(t)
	iss, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.Users[0].Groups[0] = "changed-after-New"
	users := iss.Users()
	if len(users) != 2 || users[0].Username != "alice" || users[1].Username != "bob" {
		t.Fatalf("Users() = %+v", users)
	}
	if users[0].Password != DefaultPassword || users[1].Password != bobPass {
		t.Errorf("passwords = %q, %q; want default for alice, own for bob", users[0].Password, users[1].Password)
	}
	if users[0].Groups[0] != "lob-risk" {
		t.Errorf("caller's slice leaked into the issuer: %v", users[0].Groups)
	}
	users[0].Groups[0] = "changed-by-caller"
	if got := iss.Users()[0].Groups[0]; got != "lob-risk" {
		t.Errorf("Users() shares its slices: %q", got)
	}
}

func TestSubjectFor(t *testing.T) {
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a, b := SubjectFor("alice"), SubjectFor("bob")
	if !uuid.MatchString(a) {
		t.Errorf("SubjectFor(alice) = %q, not a version 8 UUID", a)
	}
	if a == b || a != SubjectFor("alice") {
		t.Errorf("subjects not stable and distinct: %q %q", a, b)
	}
}

func TestSignerAdapterWorksForAnyCryptoSigner(t *testing.T) {
	// A crypto.Signer that is not one of the standard key types, like a KMS
	// or HSM key, must sign the same way.
	e := newEnv(t, func(o *Options) { o.Key = opaque{testKey(t)} })
	raw, err := e.iss.Mint("bob", webClient)
	if err != nil {
		t.Fatal(err)
	}
	if claims := e.verifyJWT(t, raw); claims["preferred_username"] != "bob" {
		t.Errorf("claims = %v", claims)
	}
}

type opaque struct{ inner crypto.Signer }

func (o opaque) Public() crypto.PublicKey { return o.inner.Public() }
func (o opaque) Sign(r io.Reader, d []byte, opts crypto.SignerOpts) ([]byte, error) {
	return o.inner.Sign(r, d, opts)
}
