package opencmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/sagegate/sagegate/internal/routing"
	"github.com/sagegate/sagegate/internal/session"
)

// APIError is a problem the gateway answered with (RFC 9457 body).
type APIError struct {
	Status    int    `json:"status"`
	Code      string `json:"code"`
	Detail    string `json:"detail"`
	RequestID string `json:"requestId"`
}

func (e *APIError) Error() string {
	msg := e.Detail
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	if e.Code != "" {
		msg += " (" + e.Code
		if e.RequestID != "" {
			msg += ", request id " + e.RequestID
		}
		msg += ")"
	}
	return msg
}

// api is sagegate's HTTP API as the CLI uses it.
type api struct {
	base   *url.URL
	client *http.Client
}

type targetList struct {
	User    string           `json:"user"`
	Targets []routing.Target `json:"targets"`
}

type launchResult struct {
	URL       string `json:"url"`
	ExpiresAt string `json:"expiresAt"`
}

func (a *api) loginConfig(ctx context.Context) (session.CLIClient, error) {
	var c session.CLIClient
	err := a.call(ctx, http.MethodGet, "/api/v1/login-config", "", &c)
	return c, err
}

func (a *api) targets(ctx context.Context, token string) (targetList, error) {
	var l targetList
	err := a.call(ctx, http.MethodGet, "/api/v1/targets", token, &l)
	return l, err
}

func (a *api) launch(ctx context.Context, token, id string) (launchResult, error) {
	var res launchResult
	err := a.call(ctx, http.MethodPost, "/api/v1/targets/"+url.PathEscape(id)+"/launch", token, &res)
	return res, err
}

func (a *api) call(ctx context.Context, method, path, token string, out any) error {
	// path is already escaped; base has no query or fragment.
	u := strings.TrimSuffix(a.base.String(), "/") + path
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("is sagegate running at %s? %w", a.base.Redacted(), err)
	}
	defer resp.Body.Close()
	body := io.LimitReader(resp.Body, 1<<20)
	if resp.StatusCode == http.StatusAccepted {
		return starting(body)
	}
	if resp.StatusCode != http.StatusOK {
		e := &APIError{Status: resp.StatusCode}
		_ = json.NewDecoder(body).Decode(e)
		e.Status = resp.StatusCode
		return e
	}
	if err := json.NewDecoder(body).Decode(out); err != nil {
		return fmt.Errorf("unexpected answer from %s %s: %w", method, path, err)
	}
	return nil
}
