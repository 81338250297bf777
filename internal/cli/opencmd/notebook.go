package opencmd

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/sagegate/sagegate/internal/routing"
)

// Notebook instances: launching a stopped one answers 202 with a status
// URL while sagegate starts it; `sagegate open` then says what state it is
// in until it is up, and launches again.

// notebookStarting is the 202 answer of a launch.
type notebookStarting struct {
	State   string `json:"state"`
	Elapsed int    `json:"elapsedSeconds"`
	Problem *struct {
		Code   string `json:"code"`
		Detail string `json:"detail"`
	} `json:"error"`
}

func (n *notebookStarting) Error() string { return "the notebook is " + n.State }

func starting(body io.Reader) error {
	ns := &notebookStarting{}
	if err := json.NewDecoder(body).Decode(ns); err != nil {
		return fmt.Errorf("unexpected 202 answer: %w", err)
	}
	return ns
}

// notebookWait bounds how long `sagegate open` follows a start; sagegate
// itself gives up sooner (notebooks.waitTimeout).
const notebookWait = 30 * time.Minute

// waitNotebook follows a notebook's start by asking for the launch again
// every few seconds (which joins the start, and costs no launch while it
// runs) until the URL comes.
func (r *runner) waitNotebook(ctx context.Context, target routing.Target, ns *notebookStarting) (launchResult, error) {
	ctx, cancel := context.WithTimeout(ctx, notebookWait)
	defer cancel()
	name := cmp.Or(target.Label, target.ID)
	last := ""
	for {
		if ns.Problem != nil {
			return launchResult{}, &APIError{Status: http.StatusBadGateway, Code: ns.Problem.Code, Detail: ns.Problem.Detail}
		}
		if ns.State != last {
			fmt.Fprintf(r.o.Stderr, "Starting %s: %s (%d s so far)\n", name, ns.State, ns.Elapsed)
			last = ns.State
		}
		if err := r.o.Sleep(ctx, 3*time.Second); err != nil {
			return launchResult{}, fmt.Errorf("%s is still starting; run the same command again later: %w", name, err)
		}
		res, err := r.launch(ctx, target.ID)
		if !errors.As(err, &ns) {
			return res, err
		}
	}
}

func onlyStudios(ts []routing.Target) []routing.Target {
	var out []routing.Target
	for _, t := range ts {
		if t.Kind == routing.KindStudio {
			out = append(out, t)
		}
	}
	return out
}
