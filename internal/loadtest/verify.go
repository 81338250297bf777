package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/sagegate/sagegate/internal/sandbox/awssim"
)

// AWSView reads what the simulated AWS saw.
type AWSView interface {
	Calls(ctx context.Context) (awssim.Calls, error)
	// CallLog returns the most recent calls, oldest first.
	CallLog(ctx context.Context) ([]awssim.CallRecord, error)
	// Chaos returns the injected faults, for the report.
	Chaos(ctx context.Context) (awssim.Chaos, error)
}

// SimView reads an in-process simulator.
type SimView struct{ Sim *awssim.Simulator }

func (v SimView) Calls(context.Context) (awssim.Calls, error)          { return v.Sim.Calls(), nil }
func (v SimView) CallLog(context.Context) ([]awssim.CallRecord, error) { return v.Sim.CallLog(), nil }
func (v SimView) Chaos(context.Context) (awssim.Chaos, error)          { return v.Sim.Chaos(), nil }

// HTTPView reads a running `sagegate dev` through /dev/aws/calls and
// /dev/aws/faults.
type HTTPView struct {
	Base   string
	Client *http.Client
}

func (v *HTTPView) Calls(ctx context.Context) (awssim.Calls, error) {
	var doc awssim.Calls
	return doc, v.get(ctx, "/dev/aws/calls", &doc)
}

func (v *HTTPView) CallLog(ctx context.Context) ([]awssim.CallRecord, error) {
	var doc struct {
		Log []awssim.CallRecord `json:"log"`
	}
	return doc.Log, v.get(ctx, "/dev/aws/calls?log=1", &doc)
}

func (v *HTTPView) Chaos(ctx context.Context) (awssim.Chaos, error) {
	var doc awssim.Chaos
	return doc, v.get(ctx, "/dev/aws/faults", &doc)
}

func (v *HTTPView) get(ctx context.Context, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.Base+path, nil)
	if err != nil {
		return err
	}
	resp, err := v.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return fmt.Errorf("GET %s: %s (is the target a `sagegate dev`?)", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// callChecker checks every AWS call in the simulator's log against the
// model: each AssumeRole and presign must carry the SourceIdentity of a
// person whose LOB is in that account, and a presign must be for that
// person's own profile in their LOB's domain.
type callChecker struct {
	m *model

	mu         sync.Mutex
	lastSeq    int
	seen       int // calls read from the log
	assumes    int // AssumeRole calls checked
	presigns   int // presign calls checked
	unattrib   int // failed calls with no identity (refused before the caller was known)
	errorCodes map[string]int
	violations []string
	nViolation int
}

func newCallChecker(m *model) *callChecker {
	return &callChecker{m: m, errorCodes: map[string]int{}}
}

// baseline marks the calls already in the log as not ours.
func (c *callChecker) baseline(log []awssim.CallRecord) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(log) > 0 {
		c.lastSeq = log[len(log)-1].Seq
	}
}

// absorb checks the records it has not seen yet.
func (c *callChecker) absorb(log []awssim.CallRecord) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range log {
		rec := &log[i]
		if rec.Seq <= c.lastSeq {
			continue
		}
		c.lastSeq = rec.Seq
		c.seen++
		if rec.Error != "" {
			c.errorCodes[rec.Error]++
		}
		c.check(rec)
	}
}

func (c *callChecker) violation(format string, args ...any) {
	c.nViolation++
	if len(c.violations) < maxExamples {
		c.violations = append(c.violations, fmt.Sprintf(format, args...))
	}
}

func (c *callChecker) check(rec *awssim.CallRecord) {
	if rec.Operation != "AssumeRole" && rec.Operation != "CreatePresignedDomainUrl" {
		return
	}
	if rec.SourceIdentity == "" {
		if rec.Error != "" {
			c.unattrib++
			return
		}
		c.violation("AWS call #%d %s into account %s carried no SourceIdentity", rec.Seq, rec.Operation, rec.Account)
		return
	}
	// Demo usernames are valid STS names, so the gateway stamps them
	// unchanged.
	u := c.m.byName[rec.SourceIdentity]
	if u == nil {
		c.violation("AWS call #%d %s into account %s for unknown person %q", rec.Seq, rec.Operation, rec.Account, rec.SourceIdentity)
		return
	}
	lob := u.lobInAccount(rec.Account)
	if lob == nil {
		c.violation("AWS call #%d %s for %s into account %s, which is none of their LOBs'", rec.Seq, rec.Operation, u.name, rec.Account)
		return
	}
	if rec.Operation == "AssumeRole" {
		c.assumes++
		return
	}
	c.presigns++
	// A call refused before the operation ran (an injected fault) has no
	// domain or profile recorded; a successful one must have both.
	if rec.Error != "" && rec.DomainID == "" && rec.UserProfile == "" {
		return
	}
	if rec.DomainID != lob.DomainID || rec.UserProfile != u.profile {
		c.violation("AWS call #%d presign for %s into domain %s profile %q, want domain %s profile %q",
			rec.Seq, u.name, rec.DomainID, rec.UserProfile, lob.DomainID, u.profile)
	}
}

// poll reads the log every interval until stop is closed, then once more.
func (c *callChecker) poll(ctx context.Context, view AWSView, every <-chan time.Time, stop <-chan struct{}, errs chan<- error) {
	read := func() {
		log, err := view.CallLog(ctx)
		if err != nil {
			select {
			case errs <- err:
			default:
			}
			return
		}
		c.absorb(log)
	}
	for {
		select {
		case <-every:
			read()
		case <-stop:
			read()
			return
		}
	}
}
