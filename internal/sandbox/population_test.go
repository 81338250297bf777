package sandbox

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/sagegate/sagegate/internal/sandbox/awssim"
)

// tokenFor gets an access token from the sandbox's issuer by password grant.
func tokenFor(t *testing.T, dev *Dev, user string) string {
	t.Helper()
	tok, err := DemoToken(context.Background(), http.DefaultClient, dev.URL, user)
	if err != nil {
		t.Fatalf("token for %s: %v", user, err)
	}
	return tok
}

// launch asks for user's Studio with a bearer token, without following
// the redirect.
func launch(t *testing.T, dev *Dev, user, path string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", dev.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+tokenFor(t, dev, user))
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestDemoPopulationRoutesEveryoneToTheirLOB(t *testing.T) {
	pop := Population{Users: 7, LOBs: 3}
	dev, _ := startDevWith(t, Options{Population: pop})
	routes, err := Routes(pop)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"user-0001":  "d-a1b2c3d4e5f6", // lob-a
		"user-0002":  "d-b1b2c3d4e5f6", // lob-b
		"user-0003":  "d-lob0000003",   // lob-003
		"user-0004":  "d-a1b2c3d4e5f6",
		"user-0007":  "d-a1b2c3d4e5f6",
		"user-lob-b": "d-b1b2c3d4e5f6", // the named users are untouched
	}
	for user, domain := range want {
		resp := launch(t, dev, user, "/studio")
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.Contains(loc, "/dev/studio/"+domain+"/auth?token=") {
			t.Errorf("%s: %s %q, want a redirect into %s", user, resp.Status, loc, domain)
		}
		if got := routes[user]; len(got) != 1 || got[0].DomainID != domain {
			t.Errorf("Routes[%s] = %+v, want domain %s", user, got, domain)
		}
	}
	if got := routes["user-0003"]; got[0].Name != "lob-003" || got[0].AccountID != "300000000003" {
		t.Errorf("Routes[user-0003] = %+v", got)
	}
	if len(routes) != 4+7 || len(routes["user-none"]) != 0 || len(routes["user-both"]) != 2 {
		t.Errorf("Routes = %v", routes)
	}
	if c := dev.Sim.Calls(); c.Count("sts", "AssumeRole", "300000000003") != 1 {
		t.Errorf("lob-003's launch should assume the role in its own account: %+v", c)
	}
}

func TestPopulationNames(t *testing.T) {
	if got := (Population{Users: 12345}).UserName(7); got != "user-00007" {
		t.Errorf("UserName = %q: the width must fit the largest number", got)
	}
	if got := (Population{Users: 3}).UserName(3); got != "user-0003" {
		t.Errorf("UserName = %q", got)
	}
	for _, p := range []Population{{Users: -1}, {LOBs: -2}, {Users: maxPopulation + 1}} {
		if _, err := New(context.Background(), "http://127.0.0.1:1", "127.0.0.1:1", Options{Population: p}); err == nil {
			t.Errorf("New accepted population %+v", p)
		}
	}
	if _, err := New(context.Background(), "http://127.0.0.1:1", "127.0.0.1:1", Options{Chaos: awssim.Chaos{ErrorRate: 2}}); err == nil {
		t.Error("New accepted an error rate of 2")
	}
}

func TestDevChaosOutageOfOneLOB(t *testing.T) {
	dev, _ := startDevWith(t, Options{Chaos: awssim.Chaos{OutageAccounts: []string{"222222222222"}}})
	if resp := launch(t, dev, "user-lob-a", "/studio"); resp.StatusCode != http.StatusFound {
		t.Errorf("lob-a is not in the outage: %s", resp.Status)
	}
	if resp := launch(t, dev, "user-lob-b", "/studio"); resp.StatusCode < 500 {
		t.Errorf("lob-b's account is down, yet: %s", resp.Status)
	}
	var failed int
	for _, c := range dev.Sim.CallLog() {
		if c.Account == "222222222222" {
			if c.Error != "ServiceUnavailable" {
				t.Errorf("call into the failed account: %+v", c)
			}
			failed++
		}
	}
	if failed == 0 {
		t.Error("no call reached the failed account")
	}

	// The faults endpoint is mounted and ends the outage.
	req, _ := http.NewRequest(http.MethodPut, dev.URL+"/dev/aws/faults", strings.NewReader(`{}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT /dev/aws/faults: %v %v", resp, err)
	}
	resp.Body.Close()
	if c := dev.Sim.Chaos(); len(c.OutageAccounts) != 0 {
		t.Errorf("outage still on: %+v", c)
	}
}
