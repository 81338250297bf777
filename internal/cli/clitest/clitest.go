// Package clitest stands in for the person at the browser in tests of
// command-line sign-in: it fills in the sandbox issuer's (devidp) login
// form the way a person would, so the real redirect reaches the CLI's
// loopback listener.
package clitest

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

var (
	formAction  = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// Person signs in as User with password "demo" whenever asked to open a
// URL containing AuthorizePath; any other URL is fetched and recorded.
type Person struct {
	User string
	// AuthorizePath tells sign-in pages from others; default "/authorize".
	AuthorizePath string

	mu      sync.Mutex
	signIns int
	landed  []*http.Response
}

// SignIns is how many times the person was asked to sign in.
func (p *Person) SignIns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.signIns
}

// Landed lists the final responses (after redirects) to the other URLs
// the person was asked to open; their bodies have been read.
func (p *Person) Landed() []*http.Response {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*http.Response(nil), p.landed...)
}

// Open is an OpenBrowser function.
func (p *Person) Open(ctx context.Context, u string) error {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, body, err := Fetch(ctx, c, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	authorize := p.AuthorizePath
	if authorize == "" {
		authorize = "/authorize"
	}
	if !strings.Contains(u, authorize) {
		p.mu.Lock()
		p.landed = append(p.landed, resp)
		p.mu.Unlock()
		return nil
	}
	p.mu.Lock()
	p.signIns++
	p.mu.Unlock()
	m := formAction.FindStringSubmatch(body)
	if m == nil {
		return fmt.Errorf("no login form at %s (%s)", u, resp.Status)
	}
	form := url.Values{"username": {p.User}, "password": {"demo"}}
	for _, h := range hiddenInput.FindAllStringSubmatch(body, -1) {
		form.Set(h[1], html.UnescapeString(h[2]))
	}
	action, err := resp.Request.URL.Parse(html.UnescapeString(m[1]))
	if err != nil {
		return err
	}
	resp, body, err = Fetch(ctx, c, http.MethodPost, action.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Hostname() != "127.0.0.1" || !strings.Contains(body, "signed in") {
		return errors.New("sign-in did not reach the loopback listener: " + resp.Request.URL.Redacted() + " " + resp.Status)
	}
	return nil
}

// Fetch sends one request (a form when body is set) and reads the answer.
func Fetch(ctx context.Context, c *http.Client, method, u string, body io.Reader) (*http.Response, string, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, "", err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}
