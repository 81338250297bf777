package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Cognito is a running cognito-local: real Cognito user pools, InitiateAuth,
// per-pool JWKS and the hosted /oauth2/authorize + /oauth2/token endpoints.
//
// Facts of cognito-local 5.3.0 that tests rely on:
//   - it signs every token of every pool with one RSA key that ships inside
//     the npm package (kid "CognitoLocal"), so its tokens prove nothing
//     outside a test;
//   - the issuer is IssuerDomain + "/" + pool id, and the JWKS is served at
//     issuer + "/.well-known/jwks.json", as with real Cognito;
//   - its /.well-known/openid-configuration hard-codes localhost:9229 whatever
//     the port, so OIDC discovery against it yields the wrong issuer: point a
//     verifier at JWKSURL and IssuerURL directly;
//   - pools use email as the username attribute: AdminCreateUser wants an
//     email as Username and stores the user under its sub (a UUID), which
//     is what the tokens carry as username / cognito:username;
//   - requests are not signature-checked, so plain JSON calls work.
type Cognito struct {
	// Endpoint is the AWS JSON API endpoint, http://127.0.0.1:<port>, usable
	// as the SDK's BaseEndpoint.
	Endpoint string
	// IssuerDomain prefixes the issuer of every pool: http://localhost:<port>.
	IssuerDomain string
	// Process is the underlying process.
	Process *Process

	client *http.Client
}

// CognitoLocal starts cognito-local for the duration of t. Each call starts
// a separate, empty instance; share one across subtests by calling it in
// the parent test.
func CognitoLocal(t testing.TB) *Cognito {
	t.Helper()
	bin := NodeBin(t, "cognito-local")
	p := Start(t, Server{
		Name: "cognito-local",
		Path: bin,
		// PORT and HOST feed cognito-local's built-in defaults, which the
		// config file below overrides; set both so the two always agree.
		Env: func(port int) []string {
			return []string{
				fmt.Sprintf("PORT=%d", port),
				"HOST=127.0.0.1",
				// aws-sdk v2 prints an end-of-support banner on every start.
				"AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE=1",
			}
		},
		// cognito-local reads .cognito/config.json relative to its working
		// directory and keeps its pools in .cognito/db beside it.
		Setup: func(dir string, port int) error {
			cfgDir := filepath.Join(dir, ".cognito")
			if err := os.Mkdir(cfgDir, 0o755); err != nil {
				return err
			}
			cfg, err := json.Marshal(map[string]any{
				"ServerConfig": map[string]any{"hostname": "127.0.0.1", "port": port},
				"TokenConfig":  map[string]any{"IssuerDomain": fmt.Sprintf("http://localhost:%d", port)},
			})
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(cfgDir, "config.json"), cfg, 0o644)
		},
		ListeningLine: func(port int) string {
			return fmt.Sprintf("Cognito Local running on http://127.0.0.1:%d", port)
		},
		ReadyPath: "/health",
	})
	return &Cognito{
		Endpoint:     p.URL(),
		IssuerDomain: fmt.Sprintf("http://localhost:%d", p.Port),
		Process:      p,
		client:       &http.Client{Timeout: 30 * time.Second},
	}
}

// CognitoError is an error answer of the Cognito API.
type CognitoError struct {
	Op      string
	Status  int
	Type    string // e.g. NotAuthorizedException, UsernameExistsException
	Message string
}

func (e *CognitoError) Error() string {
	return fmt.Sprintf("cognito %s: HTTP %d %s: %s", e.Op, e.Status, e.Type, e.Message)
}

// Call sends one AWS JSON 1.1 request for operation op (e.g. "ListUsers")
// and decodes the answer into out, which may be nil. An error answer is
// returned as *CognitoError.
func (c *Cognito) Call(ctx context.Context, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("cognito %s: %w", op, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("cognito %s: %w", op, err)
	}
	// cognito-local only parses bodies of this content type.
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService."+op)
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("cognito %s: %w", op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("cognito %s: %w", op, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(data, &e)
		if e.Type == "" && e.Message == "" {
			e.Message = string(data)
		}
		return &CognitoError{Op: op, Status: resp.StatusCode, Type: e.Type, Message: e.Message}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("cognito %s: decode %q: %w", op, data, err)
	}
	return nil
}

func (c *Cognito) must(t testing.TB, op string, in, out any) {
	t.Helper()
	if err := c.Call(t.Context(), op, in, out); err != nil {
		t.Fatalf("testenv: %v", err)
	}
}

// Pool is a user pool in a Cognito emulator.
type Pool struct {
	c *Cognito
	// ID is the pool id, e.g. "local_AbCd1234".
	ID string
	// Issuer is the iss claim of the pool's tokens:
	// http://localhost:<port>/<pool id>.
	Issuer string
	// JWKSURL is where the pool's signing keys are served:
	// Issuer + "/.well-known/jwks.json".
	JWKSURL string
}

// CreateUserPool creates a user pool named name.
func (c *Cognito) CreateUserPool(t testing.TB, name string) *Pool {
	t.Helper()
	var out struct{ UserPool struct{ Id string } }
	c.must(t, "CreateUserPool", map[string]any{"PoolName": name}, &out)
	if out.UserPool.Id == "" {
		t.Fatalf("testenv: CreateUserPool returned no pool id")
	}
	issuer := c.IssuerDomain + "/" + out.UserPool.Id
	return &Pool{c: c, ID: out.UserPool.Id, Issuer: issuer, JWKSURL: issuer + "/.well-known/jwks.json"}
}

// CreateAppClient creates a public app client (no secret) that allows
// USER_PASSWORD_AUTH and refresh, and, when callbackURLs are given, the
// hosted authorization-code flow with PKCE to those redirect URIs. It
// returns the client id.
func (p *Pool) CreateAppClient(t testing.TB, name string, callbackURLs ...string) string {
	t.Helper()
	in := map[string]any{
		"UserPoolId":        p.ID,
		"ClientName":        name,
		"GenerateSecret":    false,
		"ExplicitAuthFlows": []string{"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
	}
	if len(callbackURLs) > 0 {
		in["CallbackURLs"] = callbackURLs
		in["AllowedOAuthFlows"] = []string{"code"}
		in["AllowedOAuthFlowsUserPoolClient"] = true
		in["AllowedOAuthScopes"] = []string{"openid", "email", "profile"}
		in["SupportedIdentityProviders"] = []string{"COGNITO"}
	}
	var out struct{ UserPoolClient struct{ ClientId string } }
	p.c.must(t, "CreateUserPoolClient", in, &out)
	if out.UserPoolClient.ClientId == "" {
		t.Fatalf("testenv: CreateUserPoolClient returned no client id")
	}
	return out.UserPoolClient.ClientId
}

// User is a user created by CreateUser.
type User struct {
	// Email is what the user signs in with.
	Email string
	// Username is the pool's name for the user: its sub, because the pool
	// uses email as username attribute. Tokens carry it as username
	// (access token) and cognito:username (id token).
	Username string
	// Sub is the user's subject, the sub claim.
	Sub string
	// Password is the user's permanent password.
	Password string
}

// CreateUser creates a confirmed user with a permanent password: an
// AdminCreateUser without welcome message, then AdminSetUserPassword so the
// first sign-in gets tokens rather than a NEW_PASSWORD_REQUIRED challenge.
// email must look like an email address. Extra attributes are name/value
// pairs such as "name", "Ada Lovelace".
func (p *Pool) CreateUser(t testing.TB, email, password string, attrs ...string) User {
	t.Helper()
	if len(attrs)%2 != 0 {
		t.Fatalf("testenv: CreateUser: attributes must be name/value pairs, got %d strings", len(attrs))
	}
	attributes := []map[string]string{{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}}
	for i := 0; i < len(attrs); i += 2 {
		attributes = append(attributes, map[string]string{"Name": attrs[i], "Value": attrs[i+1]})
	}
	var out struct {
		User struct {
			Username   string
			Attributes []struct{ Name, Value string }
		}
	}
	p.c.must(t, "AdminCreateUser", map[string]any{
		"UserPoolId":     p.ID,
		"Username":       email,
		"MessageAction":  "SUPPRESS",
		"UserAttributes": attributes,
	}, &out)
	u := User{Email: email, Username: out.User.Username, Password: password}
	for _, a := range out.User.Attributes {
		if a.Name == "sub" {
			u.Sub = a.Value
		}
	}
	p.c.must(t, "AdminSetUserPassword", map[string]any{
		"UserPoolId": p.ID,
		"Username":   u.Username,
		"Password":   password,
		"Permanent":  true,
	}, nil)
	return u
}

// CreateGroup creates a group in the pool.
func (p *Pool) CreateGroup(t testing.TB, group string) {
	t.Helper()
	p.c.must(t, "CreateGroup", map[string]any{"UserPoolId": p.ID, "GroupName": group}, nil)
}

// AddUserToGroup puts a user into a group; username may be the email or the
// pool username. Tokens issued afterwards list the group in cognito:groups.
func (p *Pool) AddUserToGroup(t testing.TB, username, group string) {
	t.Helper()
	p.c.must(t, "AdminAddUserToGroup", map[string]any{"UserPoolId": p.ID, "Username": username, "GroupName": group}, nil)
}

// Tokens is the AuthenticationResult of a successful sign-in.
type Tokens struct {
	AccessToken  string
	IDToken      string `json:"IdToken"`
	RefreshToken string
}

// InitiateAuth signs a user in with USER_PASSWORD_AUTH through app client
// clientID. A wrong password or unknown user yields a *CognitoError; a
// challenge instead of tokens is an error too.
func (c *Cognito) InitiateAuth(ctx context.Context, clientID, username, password string) (Tokens, error) {
	var out struct {
		ChallengeName        string
		AuthenticationResult *Tokens
	}
	err := c.Call(ctx, "InitiateAuth", map[string]any{
		"AuthFlow":       "USER_PASSWORD_AUTH",
		"ClientId":       clientID,
		"AuthParameters": map[string]string{"USERNAME": username, "PASSWORD": password},
	}, &out)
	if err != nil {
		return Tokens{}, err
	}
	if out.AuthenticationResult == nil {
		return Tokens{}, fmt.Errorf("cognito InitiateAuth: got challenge %q instead of tokens", out.ChallengeName)
	}
	return *out.AuthenticationResult, nil
}

// Login is InitiateAuth that fails the test on error.
func (c *Cognito) Login(t testing.TB, clientID, username, password string) Tokens {
	t.Helper()
	tok, err := c.InitiateAuth(t.Context(), clientID, username, password)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return tok
}
