package testenv_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/sagegate/sagegate/internal/testenv"
)

func TestDynalite(t *testing.T) {
	t.Parallel()
	endpoint := testenv.Dynalite(t)

	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, endpoint, strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
	// dynalite insists on the shape of a SigV4 header but checks no
	// signature, which is why static test credentials work with the SDK.
	req.Header.Set("X-Amz-Date", "20250101T000000Z")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"TableNames":[]`)) {
		t.Fatalf("ListTables: %s %s, want 200 with an empty TableNames", resp.Status, body)
	}
}

func TestChromium(t *testing.T) {
	t.Parallel()
	path := testenv.Chromium(t)
	out, err := exec.CommandContext(t.Context(), path, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --version: %v\n%s", path, err, out)
	}
	if !bytes.Contains(out, []byte("Chromium")) {
		t.Errorf("%s --version = %q, want a Chromium version", path, out)
	}
}

// recorder stands in for a testing.TB to observe whether Missing skips or
// fails; like the real thing, Skipf and Fatalf end the calling goroutine.
type recorder struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *recorder) Helper() {}

func (r *recorder) Skipf(format string, args ...any) {
	r.skipped, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func runRecorded(t *testing.T, fn func(testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(r)
	}()
	<-done
	return r
}

// TestMissingTool checks the rule for absent emulators: skip on a developer
// machine, fail in CI.
func TestMissingTool(t *testing.T) {
	for _, tc := range []struct {
		ci       string
		wantFail bool
	}{
		{ci: "", wantFail: false},
		{ci: "false", wantFail: false},
		{ci: "true", wantFail: true},
	} {
		t.Run("CI="+tc.ci, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			r := runRecorded(t, func(tb testing.TB) { testenv.NodeBin(tb, "sagegate-no-such-tool") })
			if r.failed != tc.wantFail || r.skipped == tc.wantFail {
				t.Fatalf("failed=%v skipped=%v (%s), want failed=%v", r.failed, r.skipped, r.msg, tc.wantFail)
			}
			if !strings.Contains(r.msg, "sagegate-no-such-tool") && !strings.Contains(r.msg, "node") {
				t.Errorf("message %q does not name what is missing", r.msg)
			}
		})
	}
}
