package awssim

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"time"
)

// CallRecord is one API call as the simulator saw it. It holds identities
// and resource names, never credentials, tokens or URLs.
type CallRecord struct {
	Seq       int       `json:"seq"`
	Time      time.Time `json:"time"`
	RequestID string    `json:"requestId"`
	Service   string    `json:"service"`   // "sts" or "sagemaker"
	Operation string    `json:"operation"` // "AssumeRole", "CreatePresignedDomainUrl", ...
	// Account is the account whose resources the call touched: for
	// AssumeRole the role's account, otherwise the caller's. Empty when the
	// caller could not be identified.
	Account string `json:"account,omitempty"`
	Region  string `json:"region,omitempty"`
	// Caller is the ARN of whoever signed the request.
	Caller string `json:"caller,omitempty"`
	// RoleARN is the role asked for by AssumeRole.
	RoleARN string `json:"roleArn,omitempty"`
	// RoleSessionName and SourceIdentity are those requested by AssumeRole,
	// or those of the assumed-role session that signed a SageMaker call.
	RoleSessionName string `json:"roleSessionName,omitempty"`
	SourceIdentity  string `json:"sourceIdentity,omitempty"`
	DomainID        string `json:"domainId,omitempty"`
	UserProfile     string `json:"userProfile,omitempty"`
	Space           string `json:"space,omitempty"`
	// NotebookInstance is the notebook instance a call named.
	NotebookInstance string `json:"notebookInstance,omitempty"`
	// Error is the AWS error code; empty when the call succeeded.
	Error string `json:"error,omitempty"`
}

// CallCount is the number of calls for one (service, operation, account).
type CallCount struct {
	Service   string `json:"service"`
	Operation string `json:"operation"`
	Account   string `json:"account"`
	Count     int    `json:"count"`
}

// Calls is a snapshot of call counts, sorted by service, operation, account.
type Calls struct {
	Total int         `json:"total"`
	Calls []CallCount `json:"calls"`
}

// Count sums the calls matching service, operation and account; an empty
// string matches anything.
func (c Calls) Count(service, op, account string) int {
	n := 0
	for _, cc := range c.Calls {
		if (service == "" || cc.Service == service) &&
			(op == "" || cc.Operation == op) &&
			(account == "" || cc.Account == account) {
			n += cc.Count
		}
	}
	return n
}

// maxCallLog bounds the call log so a long `sagegate dev` session or a load
// test does not grow memory without limit; counts are never dropped.
const maxCallLog = 10000

type callKey struct{ service, op, account string }

type callRecorder struct {
	mu     sync.Mutex
	seq    int
	counts map[callKey]int
	// log is a ring of the last maxCallLog calls; next is where the next
	// record goes once the ring is full. A ring, because shifting a full
	// slice on every call made the simulator the bottleneck of load tests.
	log  []CallRecord
	next int
}

func (r *callRecorder) record(rec CallRecord) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.counts == nil {
		r.counts = make(map[callKey]int)
	}
	r.seq++
	rec.Seq = r.seq
	r.counts[callKey{rec.Service, rec.Operation, rec.Account}]++
	if len(r.log) < maxCallLog {
		r.log = append(r.log, rec)
		return
	}
	r.log[r.next] = rec
	r.next = (r.next + 1) % maxCallLog
}

// ordered returns the log oldest first.
func (r *callRecorder) ordered() []CallRecord {
	out := make([]CallRecord, 0, len(r.log))
	out = append(out, r.log[r.next:]...)
	return append(out, r.log[:r.next]...)
}

// Calls returns a snapshot of the call counts.
func (s *Simulator) Calls() Calls {
	s.calls.mu.Lock()
	defer s.calls.mu.Unlock()
	out := Calls{Calls: make([]CallCount, 0, len(s.calls.counts))}
	for k, n := range s.calls.counts {
		out.Calls = append(out.Calls, CallCount{Service: k.service, Operation: k.op, Account: k.account, Count: n})
		out.Total += n
	}
	slices.SortFunc(out.Calls, func(a, b CallCount) int {
		return cmp.Or(cmp.Compare(a.Service, b.Service), cmp.Compare(a.Operation, b.Operation), cmp.Compare(a.Account, b.Account))
	})
	return out
}

// CallLog returns the most recent calls (up to 10000), oldest first.
func (s *Simulator) CallLog() []CallRecord {
	s.calls.mu.Lock()
	defer s.calls.mu.Unlock()
	return s.calls.ordered()
}

// ResetCalls clears the counts and the call log.
func (s *Simulator) ResetCalls() {
	s.calls.mu.Lock()
	defer s.calls.mu.Unlock()
	s.calls.counts = nil
	s.calls.log = nil
	s.calls.next = 0
}

// CallsHandler serves the counts as JSON: GET returns Calls (with the call
// log under "log" when the query has log=1); DELETE resets them, so browser
// tests can start from zero without a Go hook.
func (s *Simulator) CallsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			doc := struct {
				Calls
				Log []CallRecord `json:"log,omitempty"`
			}{Calls: s.Calls()}
			if r.URL.Query().Get("log") == "1" {
				doc.Log = s.CallLog()
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(doc)
		case http.MethodDelete:
			s.ResetCalls()
			w.WriteHeader(http.StatusNoContent)
		default:
			w.Header().Set("Allow", "GET, HEAD, DELETE")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}
	})
}
