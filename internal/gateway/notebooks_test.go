package gateway_test

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/sagegate/sagegate/internal/sandbox/awssim"
)

// refresh posts the AWS sample's refresh request for name.
func (e *env) refresh(token, body string) (*http.Response, string) {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+"/refreshurl", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestRefreshURLAuthorization: the refresh API answers a person's own
// notebook, an admin anyone's, and refuses everything else before any
// AWS call.
func TestRefreshURLAuthorization(t *testing.T) {
	e := newEnvWith(t, extra{
		users: `      nora: {lobs: [lob-a], notebooks: [{lob: lob-a, name: nb-nora}]}
      nobody: {lobs: [lob-b]}`,
		sections: "notebooks: {adminGroups: [nb-admins]}",
	})
	e.sim.AddNotebookInstance(awssim.NotebookInstance{Account: acctA, Name: "nb-nora", Status: awssim.NotebookInService})
	nora, bob := e.token("nora"), e.token("bob")
	adam := e.oidc.Sign(map[string]any{"sub": "sub-adam", "preferred_username": "adam", "aud": "sagegate", "groups": []string{"nb-admins"}})
	body := `{"notebook_user_name": "nora"}`

	for _, c := range []struct {
		name, token, body string
		status            int
		code              string
	}{
		{"no token", "", body, 401, "missing_token"},
		{"a bad token", "not-a-jwt", body, 401, "malformed_token"},
		{"someone else's", bob, body, 403, "forbidden"},
		{"not JSON", nora, `notebook_user_name=nora`, 400, "bad_request"},
		{"an unknown field", nora, `{"notebook_user_name": "nora", "x": 1}`, 400, "bad_request"},
		{"no name", nora, `{}`, 400, "bad_request"},
		{"a person without a notebook", e.token("nobody"), `{"notebook_user_name": "nobody"}`, 404, "no_notebook"},
	} {
		resp, out := e.refresh(c.token, c.body)
		var p struct{ Code string }
		_ = json.Unmarshal([]byte(out), &p)
		if resp.StatusCode != c.status || p.Code != c.code {
			t.Errorf("%s: %s %s, want %d %s", c.name, resp.Status, out, c.status, c.code)
		}
	}
	if n := e.sim.Calls().Total; n != 0 {
		t.Fatalf("refusals made %d AWS calls", n)
	}

	for who, token := range map[string]string{"nora": nora, "an admin": adam} {
		resp, out := e.refresh(token, body)
		var got struct{ PreSignedURL string }
		if err := json.Unmarshal([]byte(out), &got); err != nil || resp.StatusCode != 200 || !strings.Contains(got.PreSignedURL, "/nb-nora?authToken=") {
			t.Errorf("%s: %s %s", who, resp.Status, out)
		}
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", who, resp.Header.Get("Cache-Control"))
		}
	}
	// The admin's call ran as the admin, in CloudTrail's eyes.
	var sources []string
	for _, c := range e.sim.CallLog() {
		if c.Operation == "CreatePresignedNotebookInstanceUrl" {
			sources = append(sources, c.SourceIdentity)
		}
	}
	slices.Sort(sources)
	if strings.Join(sources, ",") != "adam,nora" {
		t.Errorf("presigned as %v", sources)
	}
	log := e.auditLog()
	if strings.Count(log, `"action":"refresh_url"`) != 7 || strings.Contains(log, "authToken") {
		t.Errorf("audit:\n%s", log)
	}
}
