package server

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sagegate/sagegate/internal/notebooks"
	"github.com/sagegate/sagegate/internal/problem"
	"github.com/sagegate/sagegate/internal/routing"
)

// noAWS is a notebooks.Control whose every call panics (a nil interface),
// which the server answers 500: a refusal must never reach AWS.
type noAWS struct{ notebooks.Control }

func notebookServer(t *testing.T, r listResolver) *Server {
	t.Helper()
	return testServer(t, Options{Resolver: r, Launcher: &countingLauncher{},
		Notebooks: notebooks.New(notebooks.Options{Control: noAWS{}})})
}

func post(s http.Handler, path, token, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

// The notebook endpoints refuse what is not the caller's notebook, and
// bad input, with a 4xx before any AWS call.
func TestNotebookEndpointRefusals(t *testing.T) {
	ts := []routing.Target{
		{ID: "studio", Kind: routing.KindStudio, AccountID: "111111111111"},
		{ID: "nb", Kind: routing.KindNotebook, AccountID: "111111111111", NotebookInstance: "nb-alice", Owner: "alice"},
	}
	s := notebookServer(t, listResolver{ts: ts})
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"status of a Studio", "GET", "/api/v1/targets/studio/status", "", http.StatusNotFound, problem.CodeTargetNotFound},
		{"status of nothing", "GET", "/api/v1/targets/other/status", "", http.StatusNotFound, problem.CodeTargetNotFound},
		{"events of a Studio", "GET", "/notebooks/studio/events", "", http.StatusNotFound, problem.CodeTargetNotFound},
		{"stopping a Studio", "POST", "/api/v1/targets/studio/stop", "", http.StatusNotFound, problem.CodeTargetNotFound},
		{"vend without a template", "POST", "/api/v1/notebooks", `{"lob": "lob-a"}`, http.StatusBadRequest, problem.CodeBadRequest},
		{"vend with an unknown field", "POST", "/api/v1/notebooks", `{"lob": "lob-a", "template": "t", "size": 1}`, http.StatusBadRequest, problem.CodeBadRequest},
		{"vend of a template the caller lacks", "POST", "/api/v1/notebooks", `{"lob": "lob-a", "template": "t"}`, http.StatusNotFound, notebooks.CodeTemplateNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rec *httptest.ResponseRecorder
			if tc.method == "POST" {
				rec = post(s, tc.path, "alice", tc.body)
			} else {
				rec = serve(s, tc.path, "alice", "Accept", "application/json")
			}
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), `"code":"`+tc.code+`"`) {
				t.Errorf("got %d %s, want %d %s", rec.Code, rec.Body, tc.status, tc.code)
			}
		})
	}
}

// A routing store that cannot be read is a 503 on every notebook
// endpoint, never a 404 that would tell a person they have no notebook.
func TestNotebookEndpointsWhenTheStoreIsDown(t *testing.T) {
	s := notebookServer(t, listResolver{err: errors.New("dial tcp: connection refused")})
	for _, rec := range []*httptest.ResponseRecorder{
		serve(s, "/api/v1/targets/nb/status", "alice", "Accept", "application/json"),
		post(s, "/api/v1/targets/nb/stop", "alice", ""),
		post(s, "/api/v1/notebooks", "alice", `{"lob": "lob-a", "template": "t"}`),
		post(s, "/refreshurl", "alice", `{"notebook_user_name": "alice"}`),
	} {
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || strings.Contains(rec.Body.String(), "refused") {
			t.Errorf("got %d %v %s", rec.Code, rec.Header(), rec.Body)
		}
	}
}
