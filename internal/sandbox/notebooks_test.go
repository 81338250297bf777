package sandbox

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sagegate/sagegate/internal/sandbox/awssim"
	"github.com/sagegate/sagegate/internal/testutil"
)

const (
	notebookID   = "lob-a:nb-user-lob-a"
	notebookPath = "/dev/notebooks/111111111111/us-east-1/nb-user-lob-a/tree"
)

// gatedDev is a sandbox on a fake clock whose notebook waits hold until
// the test opens the gate, then move the clock instead of sleeping.
func gatedDev(t *testing.T) (*Dev, *testutil.SyncBuffer, chan struct{}) {
	t.Helper()
	clock := testutil.NewClock(time.Now().UTC().Truncate(time.Second))
	gate := make(chan struct{})
	dev, audit := startDevWith(t, Options{Now: clock.Now, NotebookDelay: 20 * time.Second,
		NotebookSleep: func(ctx context.Context, d time.Duration) error {
			select {
			case <-gate:
			case <-ctx.Done():
				return ctx.Err()
			}
			clock.Advance(d)
			return nil
		}})
	return dev, audit, gate
}

type sse struct{ event, data string }

// events reads a server-sent event stream into a channel until it ends.
func events(t *testing.T, c *http.Client, u string) <-chan sse {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || ct != "text/event-stream" {
		t.Fatalf("events: %s %s", resp.Status, ct)
	}
	out := make(chan sse, 64)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var ev sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				ev.event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			case line == "" && ev.event != "":
				out <- ev
				ev = sse{}
			}
		}
	}()
	return out
}

type statusDoc struct {
	State   string `json:"state"`
	Done    bool   `json:"done"`
	Ready   bool   `json:"ready"`
	History []struct {
		State string `json:"state"`
	} `json:"history"`
	StatusURL string `json:"statusUrl"`
}

func (s statusDoc) states() string {
	var out []string
	for _, h := range s.History {
		out = append(out, h.State)
	}
	return strings.Join(out, " -> ")
}

// TestNotebookStartOnClickAcceptance is the acceptance scenario in `sagegate
// dev`: user-lob-a's stopped notebook is opened from the launcher; the
// progress page follows it Stopped -> Pending -> InService over
// server-sent events; a second tab joins the same start instead of
// starting again; then the notebook opens.
func TestNotebookStartOnClickAcceptance(t *testing.T) {
	dev, audit, gate := gatedDev(t)
	c := browser(t)
	resp, page := signIn(t, c, dev, "user-lob-a", "/auth/login?rd=%2F")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `href="/launch/`+notebookID+`"`) ||
		!strings.Contains(page, "Start and open<span class=\"vh\"> Notebook of user-lob-a (simulated)") ||
		!strings.Contains(page, "State: <strong>Stopped</strong>") {
		t.Fatalf("launcher: %s\n%s", resp.Status, page)
	}

	// Tab 1 clicks Open: the progress page, and the start has begun.
	resp, page = get(t, c, dev.URL+"/launch/"+notebookID)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Starting Notebook of user-lob-a (simulated)") ||
		!strings.Contains(page, `<span class="history-state">Stopped</span>`) || !strings.Contains(page, `http-equiv="refresh"`) ||
		!strings.Contains(page, `data-events="/notebooks/`+notebookID+`/events"`) || strings.Contains(page, `id="joined"`) {
		t.Fatalf("progress page: %s\n%s", resp.Status, page)
	}
	// Tab 2 clicks Open too, and follows the same start.
	resp2, page2 := get(t, c, dev.URL+"/launch/"+notebookID)
	if resp2.StatusCode != http.StatusOK || !strings.Contains(page2, "Starting Notebook of user-lob-a") || !strings.Contains(page2, `id="joined"`) {
		t.Fatalf("second tab: %s\n%s", resp2.Status, page2)
	}
	if n := dev.Sim.Calls().Count("sagemaker", "StartNotebookInstance", "111111111111"); n != 1 {
		t.Fatalf("StartNotebookInstance calls = %d, want 1 for two tabs", n)
	}

	stream := events(t, c, dev.URL+"/notebooks/"+notebookID+"/events")
	first := <-stream
	var st statusDoc
	if err := json.Unmarshal([]byte(first.data), &st); err != nil || first.event != "state" || st.State != "Pending" || st.states() != "Stopped -> Pending" {
		t.Fatalf("first event = %+v", first)
	}
	close(gate)
	var last sse
	for ev := range stream {
		last = ev
	}
	if err := json.Unmarshal([]byte(last.data), &st); err != nil || last.event != "ready" || !st.Ready ||
		st.states() != "Stopped -> Pending -> InService" {
		t.Fatalf("last event = %+v", last)
	}

	// The page's script now goes to the launch link: into the notebook.
	resp, page = get(t, c, dev.URL+"/launch/"+notebookID)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != notebookPath ||
		!strings.Contains(page, `<dd id="instance">nb-user-lob-a</dd>`) || !strings.Contains(page, `<dd id="source-identity">user-lob-a</dd>`) {
		t.Fatalf("landed on %s (%s):\n%s", resp.Request.URL, resp.Status, page)
	}
	if n := dev.Sim.Calls().Count("sagemaker", "StartNotebookInstance", ""); n != 1 {
		t.Errorf("StartNotebookInstance calls = %d at the end, want 1", n)
	}
	log := audit.String()
	if strings.Count(log, `"action":"notebook_start"`) != 1 || !strings.Contains(log, `"action":"launch"`) || strings.Contains(log, "authToken") {
		t.Errorf("audit:\n%s", log)
	}
}

// TestNotebookJSONClientGets202 follows a start as an API client does.
func TestNotebookJSONClientGets202(t *testing.T) {
	dev, _, gate := gatedDev(t)
	tok := tokenFor(t, dev, "user-lob-a")
	call := func(method, path string) (*http.Response, []byte) {
		t.Helper()
		resp, body := request(t, method, dev.URL+path, tok, "")
		return resp, []byte(body)
	}
	resp, body := call("POST", "/api/v1/targets/"+notebookID+"/launch")
	var st statusDoc
	_ = json.Unmarshal(body, &st)
	if resp.StatusCode != http.StatusAccepted || resp.Header.Get("Location") != "/api/v1/targets/"+notebookID+"/status" ||
		resp.Header.Get("Retry-After") == "" || st.State != "Pending" || st.Done {
		t.Fatalf("launch: %s %v\n%s", resp.Status, resp.Header, body)
	}
	close(gate)
	for !st.Ready {
		resp, body = call("GET", st.StatusURL)
		if err := json.Unmarshal(body, &st); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("status: %s %s", resp.Status, body)
		}
	}
	resp, body = call("POST", "/api/v1/targets/"+notebookID+"/launch")
	var launched struct{ URL string }
	if err := json.Unmarshal(body, &launched); err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(launched.URL, "/dev/notebooks/") {
		t.Fatalf("launch when ready: %s %s", resp.Status, body)
	}
}

// TestRefreshURLAcceptance: POST /refreshurl answers the caller's own
// notebook with a working URL, refuses anyone else's (403) and anyone
// unauthenticated (401), without an AWS call for a refusal.
func TestRefreshURLAcceptance(t *testing.T) {
	dev, audit := startDevWith(t, Options{NotebookDelay: -1})
	dev.Sim.AddNotebookInstance(runningNotebook())
	refresh := func(token, body string) (*http.Response, string) {
		t.Helper()
		return request(t, "POST", dev.URL+"/refreshurl", token, body)
	}
	a, b := tokenFor(t, dev, "user-lob-a"), tokenFor(t, dev, "user-lob-b")
	body := `{"notebook_user_name": "user-lob-a"}`

	before := dev.Sim.Calls().Total
	if resp, out := refresh("", body); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: %s %s", resp.Status, out)
	}
	if resp, out := refresh(b, body); resp.StatusCode != http.StatusForbidden || !strings.Contains(out, `"code":"forbidden"`) {
		t.Errorf("user-lob-b: %s %s", resp.Status, out)
	}
	if resp, out := refresh(a, `{"notebook_user_name": ""}`); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("empty name: %s %s", resp.Status, out)
	}
	if n := dev.Sim.Calls().Total; n != before {
		t.Errorf("refusals made %d AWS calls", n-before)
	}

	resp, out := refresh(a, body)
	var doc struct{ PreSignedURL string }
	if err := json.Unmarshal([]byte(out), &doc); err != nil || resp.StatusCode != http.StatusOK || doc.PreSignedURL == "" {
		t.Fatalf("user-lob-a: %s %s", resp.Status, out)
	}
	// Published for the sample's tools, encrypted, in the notebook's account.
	if p, ok := dev.Sim.Parameter("111111111111", "us-east-1", "/SageMaker/Notebooks/user-lob-a-Notebook"); !ok ||
		p.Type != "SecureString" || p.KeyID != "alias/sagegate-demo" || p.Value != doc.PreSignedURL {
		t.Errorf("SSM parameter = %+v, %v", p, ok)
	}
	landed, page := get(t, browser(t), doc.PreSignedURL)
	if landed.StatusCode != http.StatusOK || landed.Request.URL.Path != notebookPath || !strings.Contains(page, "nb-user-lob-a") {
		t.Errorf("the refreshed URL landed on %s (%s)", landed.Request.URL, landed.Status)
	}
	if strings.Count(audit.String(), `"action":"refresh_url"`) != 3 || strings.Count(audit.String(), `"action":"authenticate"`) != 1 {
		t.Errorf("refresh decisions audited:\n%s", audit.String())
	}
}

// runningNotebook is user-lob-a's notebook, InService.
func runningNotebook() awssim.NotebookInstance {
	return awssim.NotebookInstance{Account: "111111111111", Name: "nb-user-lob-a", Status: awssim.NotebookInService,
		Tags: []awssim.Tag{{Key: "sagegate:user", Value: "user-lob-a"}}}
}

// TestRefreshURLStartsAStoppedNotebook: the refresh API of a stopped
// notebook starts it and answers once it is up, as the sample's clients
// expect a URL in the answer.
func TestRefreshURLStartsAStoppedNotebook(t *testing.T) {
	dev, _, gate := gatedDev(t)
	close(gate)
	resp, b := request(t, "POST", dev.URL+"/refreshurl", tokenFor(t, dev, "user-lob-a"), `{"notebook_user_name":"user-lob-a"}`)
	if resp.StatusCode != http.StatusOK || !strings.Contains(b, `"PreSignedURL":"http`) {
		t.Fatalf("refresh of a stopped notebook: %s %s", resp.Status, b)
	}
	if info, _ := dev.Sim.Notebook("111111111111", "us-east-1", "nb-user-lob-a"); info.Status != awssim.NotebookInService {
		t.Errorf("notebook is %s", info.Status)
	}
}

// request makes one API call with a bearer token (none when empty) and a
// JSON body (none when empty).
func request(t *testing.T, method, u, token, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestVendAndStopOverHTTP: user-lob-a vends their template notebook
// through the API (one per person: a second is refused), waits for it, and
// stops it; user-lob-b cannot stop it.
func TestVendAndStopOverHTTP(t *testing.T) {
	dev, audit, gate := gatedDev(t)
	close(gate)
	a, b := tokenFor(t, dev, "user-lob-a"), tokenFor(t, dev, "user-lob-b")
	resp, out := request(t, "POST", dev.URL+"/api/v1/notebooks", a, `{"lob":"lob-a","template":"personal","instanceType":"ml.t3.large"}`)
	var st statusDoc
	if err := json.Unmarshal([]byte(out), &st); err != nil || resp.StatusCode != http.StatusAccepted || st.StatusURL != "/api/v1/targets/lob-a:personal-user-lob-a/status" {
		t.Fatalf("vend: %s %s", resp.Status, out)
	}
	for !st.Ready {
		_, out = request(t, "GET", dev.URL+st.StatusURL, a, "")
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			t.Fatal(out)
		}
	}
	info, _ := dev.Sim.Notebook("111111111111", "us-east-1", "personal-user-lob-a")
	if info.InstanceType != "ml.t3.large" || info.RootAccess != "Disabled" || info.DirectInternetAccess != "Disabled" || info.KMSKeyID != "alias/sagegate-demo-notebooks" {
		t.Errorf("vended = %+v", info)
	}
	if resp, out := request(t, "POST", dev.URL+"/api/v1/notebooks", a, `{"lob":"lob-a","template":"personal"}`); resp.StatusCode != http.StatusConflict || !strings.Contains(out, "notebook_limit") {
		t.Errorf("second vend: %s %s", resp.Status, out)
	}
	stop := dev.URL + "/api/v1/targets/lob-a:personal-user-lob-a/stop"
	if resp, out := request(t, "POST", stop, b, ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("user-lob-b stopping it: %s %s", resp.Status, out)
	}
	if resp, out := request(t, "POST", stop, a, ""); resp.StatusCode != http.StatusAccepted || !strings.Contains(out, `"state":"Stopping"`) {
		t.Errorf("stop: %s %s", resp.Status, out)
	}
	log := audit.String()
	for _, want := range []string{`"action":"notebook_create"`, `"action":"notebook_stop"`} {
		if !strings.Contains(log, want) {
			t.Errorf("audit lacks %s:\n%s", want, log)
		}
	}
}
