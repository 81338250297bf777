package opencmd

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sagegate/sagegate/internal/cli/clitest"
	"github.com/sagegate/sagegate/internal/sandbox"
	"github.com/sagegate/sagegate/internal/testutil"
)

// TestOpenStartsAStoppedNotebook: `sagegate open` of a stopped notebook
// follows its start (the gateway answers 202 meanwhile) and opens it once
// it is InService.
func TestOpenStartsAStoppedNotebook(t *testing.T) {
	clock := testutil.NewClock(time.Now().UTC().Truncate(time.Second))
	gate := make(chan struct{})
	dev := startDev(t, sandbox.Options{
		Now: clock.Now, NotebookDelay: 20 * time.Second,
		NotebookSleep: func(ctx context.Context, d time.Duration) error {
			<-gate
			clock.Advance(d)
			return ctx.Err()
		},
	})

	alice := &clitest.Person{User: "user-lob-a"}
	var once sync.Once
	r := openAs(t, dev, alice, "", clock, func(o *Options) {
		o.Target = "lob-a:nb-user-lob-a"
		// The CLI's own wait lets the gateway's go on instead of sleeping.
		o.Sleep = func(context.Context, time.Duration) error {
			once.Do(func() { close(gate) })
			return nil
		}
	})
	if r.err != nil {
		t.Fatalf("open: %v\n%s", r.err, r.stderr.String())
	}
	landed := alice.Landed()
	if len(landed) != 1 || landed[0].StatusCode != http.StatusOK || !strings.HasSuffix(landed[0].Request.URL.Path, "/nb-user-lob-a/tree") {
		t.Fatalf("landed %v; stderr:\n%s", landed, r.stderr.String())
	}
	if !strings.Contains(r.stderr.String(), "Starting lob-a:nb-user-lob-a: Pending") {
		t.Errorf("stderr:\n%s", r.stderr.String())
	}
	if n := dev.Sim.Calls().Count("sagemaker", "StartNotebookInstance", ""); n != 1 {
		t.Errorf("StartNotebookInstance calls = %d", n)
	}
}
