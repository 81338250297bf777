package awssim_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/sagegate/sagegate/internal/sandbox/awssim"
)

func TestCallsHandler(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	creds := e.assume(t, roleA, extA, "alice", "alice")
	client := e.sagemaker("us-east-1", creds)
	for range 3 {
		if _, err := client.CreatePresignedDomainUrl(ctx, &sagemaker.CreatePresignedDomainUrlInput{
			DomainId: aws.String(domainA), UserProfileName: aws.String("alice"),
		}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := client.DescribeDomain(ctx, &sagemaker.DescribeDomainInput{DomainId: aws.String(domainB)}); err == nil {
		t.Fatal("domain B is not in account A")
	}

	var doc struct {
		awssim.Calls
		Log []awssim.CallRecord `json:"log"`
	}
	resp, err := e.srv.Client().Get(e.srv.URL + "/dev/calls?log=1")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := []awssim.CallCount{
		{Service: "sagemaker", Operation: "CreatePresignedDomainUrl", Account: acctA, Count: 3},
		{Service: "sagemaker", Operation: "DescribeDomain", Account: acctA, Count: 1},
		{Service: "sts", Operation: "AssumeRole", Account: acctA, Count: 1},
	}
	if doc.Total != 5 || len(doc.Calls.Calls) != len(want) {
		t.Fatalf("calls = %+v", doc.Calls)
	}
	for i := range want {
		if doc.Calls.Calls[i] != want[i] {
			t.Errorf("calls[%d] = %+v, want %+v", i, doc.Calls.Calls[i], want[i])
		}
	}
	if doc.Count("sagemaker", "", "") != 4 || doc.Count("", "", acctA) != 5 || doc.Count("sts", "AssumeRole", acctB) != 0 {
		t.Errorf("Count wildcards wrong: %+v", doc.Calls)
	}
	if len(doc.Log) != 5 || doc.Log[4].Error != "ResourceNotFound" || doc.Log[4].DomainID != domainB || doc.Log[0].Seq >= doc.Log[4].Seq {
		t.Errorf("log = %+v", doc.Log)
	}

	// Without log=1 the log is left out.
	resp, err = e.srv.Client().Get(e.srv.URL + "/dev/calls")
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, ok := raw["log"]; ok || raw["total"] == nil || raw["calls"] == nil {
		t.Errorf("keys = %v", raw)
	}

	req, _ := http.NewRequest(http.MethodDelete, e.srv.URL+"/dev/calls", nil)
	resp, err = e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || e.sim.Calls().Total != 0 || len(e.sim.CallLog()) != 0 {
		t.Errorf("DELETE: status %d, calls %+v", resp.StatusCode, e.sim.Calls())
	}
	resp, err = e.srv.Client().Post(e.srv.URL+"/dev/calls", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d", resp.StatusCode)
	}
}

// TestEachLOBReachesOnlyItsAccount is the shape of the assertion sagegate's
// integration tests make: users of each line of business only reach their
// own account, as seen from the call log.
func TestEachLOBReachesOnlyItsAccount(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	type user struct{ name, role, ext, account, region, domain string }
	for _, u := range []user{
		{"alice", roleA, extA, acctA, "us-east-1", domainA},
		{"carol", roleB, "", acctB, "eu-west-1", domainB},
	} {
		creds := e.assume(t, u.role, u.ext, "sagegate-"+u.name, u.name)
		if _, err := e.sagemaker(u.region, creds).CreatePresignedDomainUrl(ctx, &sagemaker.CreatePresignedDomainUrlInput{
			DomainId: aws.String(u.domain), UserProfileName: aws.String(u.name),
		}); err != nil {
			t.Fatalf("%s: %v", u.name, err)
		}
	}
	reached := map[string]map[string]bool{}
	for _, rec := range e.sim.CallLog() {
		if rec.SourceIdentity == "" {
			t.Fatalf("call without a source identity: %+v", rec)
		}
		if reached[rec.SourceIdentity] == nil {
			reached[rec.SourceIdentity] = map[string]bool{}
		}
		reached[rec.SourceIdentity][rec.Account] = true
	}
	if len(reached["alice"]) != 1 || !reached["alice"][acctA] || len(reached["carol"]) != 1 || !reached["carol"][acctB] {
		t.Errorf("accounts reached = %v", reached)
	}
}

// TestNoSecretsInLogs runs the whole flow and checks that no credential,
// session token or presigned URL token reached the log.
func TestNoSecretsInLogs(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	creds := e.assume(t, roleA, extA, "alice", "alice")
	temp, err := creds.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	link := e.presign(t, sagemaker.CreatePresignedDomainUrlInput{})
	token := link[strings.Index(link, "token=")+len("token="):]
	get(t, e.browser(t), link)
	get(t, e.browser(t), link) // refused: logged as a warning
	_, _ = e.sts(credentials.NewStaticCredentialsProvider(gatewayKey, "wrong", "")).GetCallerIdentity(ctx, nil)

	logs := e.logs.String()
	if !strings.Contains(logs, `"operation":"AssumeRole"`) || !strings.Contains(logs, "awssim studio sign-in") {
		t.Fatalf("expected call and sign-in lines in the log:\n%s", logs)
	}
	for name, secret := range map[string]string{
		"gateway secret": gatewaySecret, "temporary secret": temp.SecretAccessKey,
		"session token": temp.SessionToken, "external id": extA, "presigned URL token": token,
	} {
		if strings.Contains(logs, secret) {
			t.Errorf("%s appears in the log", name)
		}
	}
}
