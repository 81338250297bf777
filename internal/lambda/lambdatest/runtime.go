// Package lambdatest runs a Lambda function binary the way Lambda does, for
// tests: a fake Lambda Runtime API (the HTTP interface a custom runtime
// polls for events and answers through) on 127.0.0.1, and helpers to build
// the real binary and start it against that API. The runtime interface
// emulator cannot be installed here; the API is small enough to fake.
package lambdatest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Runtime is a fake Lambda Runtime API, version 2018-06-01: it hands out
// queued invocations on GET /runtime/invocation/next and collects their
// answers from POST /runtime/invocation/{id}/response and .../error, and
// init failures from POST /runtime/init/error.
type Runtime struct {
	srv     *httptest.Server
	queue   chan *invocation
	closing chan struct{}
	nextID  atomic.Int64

	mu       sync.Mutex
	inflight map[string]*invocation
	initErr  *FunctionError
	initDone chan struct{} // closed when an init error arrives
	polled   chan struct{} // closed on the first GET next
	pollOnce sync.Once
	stopOnce sync.Once
}

type invocation struct {
	id      string
	payload []byte
	done    chan Result
}

// Result is a function's answer to one invocation.
type Result struct {
	// Payload is the response body, when the function succeeded.
	Payload []byte
	// Error is the function error, when it failed.
	Error *FunctionError
}

// FunctionError is the error document of the Runtime API.
type FunctionError struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
	// Header is Lambda-Runtime-Function-Error-Type.
	Header string `json:"-"`
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// Deadline is the time each invocation is given.
const Deadline = 30 * time.Second

const prefix = "/2018-06-01/runtime"

// NewRuntime starts a Runtime on 127.0.0.1; it stops when the test ends.
func NewRuntime(t testing.TB) *Runtime {
	t.Helper()
	r := &Runtime{
		queue:    make(chan *invocation),
		closing:  make(chan struct{}),
		inflight: map[string]*invocation{},
		initDone: make(chan struct{}),
		polled:   make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+prefix+"/invocation/next", r.next)
	mux.HandleFunc("POST "+prefix+"/invocation/{id}/response", r.respond)
	mux.HandleFunc("POST "+prefix+"/invocation/{id}/error", r.fail)
	mux.HandleFunc("POST "+prefix+"/init/error", r.initError)
	r.srv = httptest.NewServer(mux)
	t.Cleanup(r.Close)
	return r
}

// Close stops the Runtime. Use one Runtime per function process: a
// process that was killed may still have a request for the next invocation
// open here, and that request could take an invocation meant for its
// successor.
func (r *Runtime) Close() {
	r.stopOnce.Do(func() {
		// A function still waiting in next must be released first, or
		// the server's Close would wait for it forever.
		close(r.closing)
		r.srv.Close()
	})
}

// Addr is the value for AWS_LAMBDA_RUNTIME_API (host:port).
func (r *Runtime) Addr() string { return r.srv.Listener.Addr().(*net.TCPAddr).String() }

// Polled is closed when the function first asks for an invocation: its
// initialisation is over.
func (r *Runtime) Polled() <-chan struct{} { return r.polled }

// InitError is closed when the function reported an init error; read it
// with InitErr.
func (r *Runtime) InitError() <-chan struct{} { return r.initDone }

// InitErr is the reported init error, or nil.
func (r *Runtime) InitErr() *FunctionError {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.initErr
}

// Invoke queues payload and waits for the function's answer. It fails when
// ctx ends first or the function reported an init error.
func (r *Runtime) Invoke(ctx context.Context, payload []byte) (Result, error) {
	inv := &invocation{id: "req-" + strconv.FormatInt(r.nextID.Add(1), 10), payload: payload, done: make(chan Result, 1)}
	select {
	case r.queue <- inv:
	case <-r.initDone:
		return Result{}, fmt.Errorf("the function failed to start: %w", r.InitErr())
	case <-ctx.Done():
		return Result{}, fmt.Errorf("no function asked for the invocation: %w", context.Cause(ctx))
	}
	select {
	case res := <-inv.done:
		return res, nil
	case <-ctx.Done():
		return Result{}, fmt.Errorf("no answer to invocation %s: %w", inv.id, context.Cause(ctx))
	}
}

func (r *Runtime) next(w http.ResponseWriter, req *http.Request) {
	r.pollOnce.Do(func() { close(r.polled) })
	select {
	case inv := <-r.queue:
		r.mu.Lock()
		r.inflight[inv.id] = inv
		r.mu.Unlock()
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(Deadline).UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:000000000000:function:sagegate")
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0")
		h.Set("Content-Type", "application/json")
		_, _ = w.Write(inv.payload)
	case <-req.Context().Done():
	case <-r.closing:
		http.Error(w, "shutting down", http.StatusInternalServerError)
	}
}

func (r *Runtime) take(w http.ResponseWriter, req *http.Request) (*invocation, []byte, bool) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 6<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return nil, nil, false
	}
	r.mu.Lock()
	inv, ok := r.inflight[req.PathValue("id")]
	delete(r.inflight, req.PathValue("id"))
	r.mu.Unlock()
	if !ok {
		http.Error(w, `{"errorMessage":"unknown request id","errorType":"InvalidRequestID"}`, http.StatusBadRequest)
		return nil, nil, false
	}
	return inv, body, true
}

func (r *Runtime) respond(w http.ResponseWriter, req *http.Request) {
	inv, body, ok := r.take(w, req)
	if !ok {
		return
	}
	inv.done <- Result{Payload: body}
	w.WriteHeader(http.StatusAccepted)
}

func (r *Runtime) fail(w http.ResponseWriter, req *http.Request) {
	inv, body, ok := r.take(w, req)
	if !ok {
		return
	}
	fe, err := functionError(req, body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	inv.done <- Result{Error: fe}
	w.WriteHeader(http.StatusAccepted)
}

func (r *Runtime) initError(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	fe, err := functionError(req, body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	first := r.initErr == nil
	if first {
		r.initErr = fe
	}
	r.mu.Unlock()
	if first {
		close(r.initDone)
	}
	w.WriteHeader(http.StatusAccepted)
}

func functionError(req *http.Request, body []byte) (*FunctionError, error) {
	var fe FunctionError
	if err := json.Unmarshal(body, &fe); err != nil {
		return nil, errors.New("the error body is not an error document")
	}
	fe.Header = req.Header.Get("Lambda-Runtime-Function-Error-Type")
	return &fe, nil
}
