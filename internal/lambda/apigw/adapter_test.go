package apigw_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sagegate/sagegate/internal/lambda/apigw"
)

// seen is what the HTTP handler got.
type seen struct {
	Method, Path, Query, RemoteAddr, RequestID string
	Cookies                                    []string
	Forwarded                                  []string
}

func echo() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := seen{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, RemoteAddr: r.RemoteAddr, RequestID: r.Header.Get("X-Request-Id"), Forwarded: r.Header.Values("X-Forwarded-For")}
		for _, c := range r.Cookies() {
			s.Cookies = append(s.Cookies, c.Name)
		}
		http.SetCookie(w, &http.Cookie{Name: "a", Value: "1"})
		http.SetCookie(w, &http.Cookie{Name: "b", Value: "2"})
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s)
	})
}

func fixture(t *testing.T, name string, edit func(map[string]any)) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(m)
	}
	b, _ = json.Marshal(m)
	return b
}

type answer struct {
	StatusCode        int
	Headers           map[string]string
	MultiValueHeaders map[string][]string
	Cookies           []string
	Body              string
}

func run(t *testing.T, opts apigw.Options, payload []byte) (seen, answer) {
	t.Helper()
	out, err := apigw.Handler(echo(), opts).Invoke(context.Background(), payload)
	if err != nil {
		t.Fatal(err)
	}
	var a answer
	var s seen
	if err := json.Unmarshal(out, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(a.Body), &s); err != nil {
		t.Fatalf("body %q: %v", a.Body, err)
	}
	return s, a
}

func set(path string, v any) func(map[string]any) {
	return func(m map[string]any) {
		keys := strings.Split(path, ".")
		for _, k := range keys[:len(keys)-1] {
			m = m[k].(map[string]any)
		}
		m[keys[len(keys)-1]] = v
	}
}

func both(fs ...func(map[string]any)) func(map[string]any) {
	return func(m map[string]any) {
		for _, f := range fs {
			f(m)
		}
	}
}

func TestPaths(t *testing.T) {
	for name, c := range map[string]struct {
		fixture string
		edit    func(map[string]any)
		opts    apigw.Options
		want    string
	}{
		"REST: the stage is not in path":                  {"apigw-rest-request.json", nil, apigw.Options{}, "/studio/alice"},
		"REST: a resource named like the stage":           {"apigw-rest-request.json", both(set("requestContext.stage", "studio"), set("requestContext.path", "/studio/studio/alice")), apigw.Options{}, "/studio/alice"},
		"REST: stage in path as the client sent it":       {"apigw-rest-request.json", both(set("path", "/dev/studio/alice")), apigw.Options{}, "/studio/alice"},
		"REST: custom domain keeps its path":              {"apigw-rest-request.json", both(set("path", "/dev/studio/alice"), set("requestContext.path", "/dev/studio/alice"), set("requestContext.domainName", "sagegate.example.com")), apigw.Options{}, "/dev/studio/alice"},
		"REST: custom domain base path":                   {"apigw-rest-request.json", both(set("path", "/sg/studio/alice"), set("requestContext.path", "/sg/studio/alice"), set("requestContext.domainName", "sagegate.example.com")), apigw.Options{BasePath: "/sg"}, "/studio/alice"},
		"HTTP API 1.0: the stage is in path":              {"apigw-http-v1-request.json", nil, apigw.Options{}, "/api/v1/targets"},
		"HTTP API 2.0: named stage":                       {"apigw-v2-request.json", nil, apigw.Options{}, "/api/v1/targets/lob-a/launch"},
		"HTTP API 2.0: $default stage":                    {"apigw-v2-request.json", both(set("rawPath", "/api/v1/targets/lob-a/launch"), set("requestContext.stage", "$default")), apigw.Options{}, "/api/v1/targets/lob-a/launch"},
		"HTTP API 2.0: stage named like a route":          {"apigw-v2-request.json", both(set("rawPath", "/api/api/v1/targets/lob-a/launch"), set("requestContext.stage", "api")), apigw.Options{}, "/api/v1/targets/lob-a/launch"},
		"HTTP API 2.0: custom domain, stage like a route": {"apigw-v2-request.json", both(set("rawPath", "/api/v1/targets/lob-a/launch"), set("requestContext.stage", "api"), set("requestContext.domainName", "sagegate.example.com")), apigw.Options{}, "/api/v1/targets/lob-a/launch"},
		"HTTP API 2.0: only the stage":                    {"apigw-v2-request.json", set("rawPath", "/dev"), apigw.Options{}, "/"},
		"HTTP API 2.0: a longer first segment":            {"apigw-v2-request.json", set("rawPath", "/devices/x"), apigw.Options{}, "/devices/x"},
		"ALB: base path":                                  {"alb-request.json", set("path", "/sg/studio"), apigw.Options{BasePath: "/sg"}, "/studio"},
		"ALB: no base path":                               {"alb-request.json", nil, apigw.Options{BasePath: "/sg"}, "/studio"},
	} {
		t.Run(name, func(t *testing.T) {
			s, _ := run(t, c.opts, fixture(t, c.fixture, c.edit))
			if s.Path != c.want {
				t.Errorf("path = %q, want %q", s.Path, c.want)
			}
		})
	}
}

func TestHeadersCookiesAndIDs(t *testing.T) {
	t.Run("REST", func(t *testing.T) {
		s, a := run(t, apigw.Options{}, fixture(t, "apigw-rest-login-request.json", nil))
		if strings.Join(s.Cookies, ",") != "__Host-sagegate_login_AAAAAAAAAA,__Host-sagegate_login_BBBBBBBBBB,__Host-sagegate_login_CCCCCCCCCC,__Host-sagegate_login_DDDDDDDDDD" {
			t.Errorf("cookies = %q", s.Cookies)
		}
		if s.Query != "rd=%2Fstudio" || s.RemoteAddr != "203.0.113.7" || s.RequestID != "d7bf0ad7-7b61-11e6-9a41-93e8deadbeef" {
			t.Errorf("seen %+v", s)
		}
		if got := a.MultiValueHeaders["Set-Cookie"]; len(got) != 2 || a.Cookies != nil {
			t.Errorf("answer %+v", a)
		}
	})
	t.Run("HTTP API", func(t *testing.T) {
		s, a := run(t, apigw.Options{}, fixture(t, "apigw-v2-request.json", nil))
		if strings.Join(s.Cookies, ",") != "theme,lang" || s.Method != http.MethodPost || s.RequestID != "JTHd4i_CIAMEVnB" {
			t.Errorf("seen %+v", s)
		}
		if len(a.Cookies) != 2 || a.MultiValueHeaders != nil || a.Headers["Content-Type"] != "application/json" {
			t.Errorf("answer %+v", a)
		}
	})
	t.Run("REST multi-value header", func(t *testing.T) {
		s, _ := run(t, apigw.Options{}, fixture(t, "apigw-rest-request.json", set("multiValueHeaders.X-Forwarded-For", []string{"203.0.113.7", "198.51.100.10"})))
		if strings.Join(s.Forwarded, "|") != "203.0.113.7|198.51.100.10" {
			t.Errorf("X-Forwarded-For = %q", s.Forwarded)
		}
	})
	t.Run("a caller's request id is kept", func(t *testing.T) {
		s, _ := run(t, apigw.Options{}, fixture(t, "apigw-v2-request.json", set("headers.x-request-id", "caller-chosen-id")))
		if s.RequestID != "caller-chosen-id" {
			t.Errorf("request id = %q", s.RequestID)
		}
	})
	t.Run("ALB", func(t *testing.T) {
		s, a := run(t, apigw.Options{}, fixture(t, "alb-request.json", nil))
		if s.RemoteAddr != "10.1.2.3" || len(a.MultiValueHeaders["Set-Cookie"]) != 2 {
			t.Errorf("seen %+v, answer %+v", s, a)
		}
	})
}

func TestNotAnHTTPEvent(t *testing.T) {
	if _, err := apigw.Handler(echo(), apigw.Options{}).Invoke(context.Background(), fixture(t, "eventbridge-ec2-state-change.json", nil)); err == nil {
		t.Error("an EventBridge event was served")
	}
}
