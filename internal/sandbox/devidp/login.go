package devidp

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The login form resists cross-site request forgery and replay like this:
//
//   - GET /authorize sets a random, HttpOnly, SameSite=Lax cookie (reused if
//     the browser already has one) that binds forms to this browser.
//   - The form carries form_token = nonce.expiry.HMAC(key, cookie, nonce,
//     expiry, every authorization parameter). The key is random per Issuer.
//   - POST /authorize accepts only a form whose token verifies against the
//     browser's cookie and the submitted parameters, has not expired, and
//     whose nonce has not been spent; it then spends the nonce.
//
// So another site can neither make a browser log in to an account of the
// attacker's choosing (it cannot read or set the cookie) nor alter the
// client, redirect URI, PKCE challenge or state on the way through the form.

const loginCookie = "devidp_login"

var cookieValue = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`) })

//go:embed templates/*.html
var templateFS embed.FS

func parsePages() (*template.Template, error) {
	t, err := template.ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("devidp: templates: %w", err)
	}
	return t, nil
}

type hiddenField struct{ Name, Value string }

type userOption struct {
	Username, Name, Email, Groups string
	Checked                       bool
}

type loginPage struct {
	StyleNonce string
	Action     string
	ClientID   string
	ReturnTo   string
	Error      string
	Fields     []hiddenField
	Users      []userOption
	Password   string
}

type messagePage struct {
	StyleNonce string
	Title      string
	Message    string
}

func (i *Issuer) formMAC(cookie, nonce string, exp int64, a authRequest) []byte {
	m := hmac.New(sha256.New, i.formKey)
	// Every part is base64url, digits or URL-encoded, so NUL separators
	// cannot be forged by a value.
	fmt.Fprintf(m, "devidp login form\x00%s\x00%s\x00%d\x00%s", cookie, nonce, exp, a.values().Encode())
	return m.Sum(nil)
}

func (i *Issuer) signForm(cookie string, a authRequest, now time.Time) string {
	nonce := randomToken()[:22]
	exp := now.Add(loginFormTTL).Unix()
	mac := i.formMAC(cookie, nonce, exp, a)
	return nonce + "." + strconv.FormatInt(exp, 10) + "." + base64.RawURLEncoding.EncodeToString(mac)
}

// checkLoginForm reports whether the submitted form is one this issuer
// rendered for this browser and these parameters, and spends it.
func (i *Issuer) checkLoginForm(r *http.Request, a authRequest) bool {
	ck, err := r.Cookie(loginCookie)
	if err != nil || !cookieValue().MatchString(ck.Value) {
		return false
	}
	parts := strings.Split(r.PostForm.Get("form_token"), ".")
	if len(parts) != 3 {
		return false
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return false
	}
	got, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(got, i.formMAC(ck.Value, parts[0], exp, a)) {
		return false
	}
	now := i.now()
	if now.Unix() > exp {
		return false
	}
	return i.store.spendFormNonce(parts[0], time.Unix(exp, 0), now)
}

// browserCookie returns the browser's login cookie value, creating and
// setting one if it has none.
func (i *Issuer) browserCookie(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(loginCookie); err == nil && cookieValue().MatchString(ck.Value) {
		return ck.Value
	}
	v := randomToken()
	http.SetCookie(w, &http.Cookie{
		Name:     loginCookie,
		Value:    v,
		Path:     i.browserPath("/authorize"),
		HttpOnly: true,
		Secure:   i.secure,
		SameSite: http.SameSiteLaxMode,
	})
	return v
}

func (i *Issuer) renderLogin(w http.ResponseWriter, r *http.Request, a authRequest, selected, errMsg string, status int) {
	page := loginPage{
		Action:   i.browserPath("/authorize"),
		ClientID: a.ClientID,
		Error:    errMsg,
		Password: DefaultPassword,
	}
	if u, err := url.Parse(a.RedirectURI); err == nil {
		page.ReturnTo = u.Host
	}
	vals := a.values()
	for _, name := range slices.Sorted(maps.Keys(vals)) {
		page.Fields = append(page.Fields, hiddenField{name, vals.Get(name)})
	}
	page.Fields = append(page.Fields, hiddenField{"form_token", i.signForm(i.browserCookie(w, r), a, i.now())})

	if i.byName[selected] == nil {
		selected = i.users[0].Username
	}
	for _, u := range i.users {
		page.Users = append(page.Users, userOption{
			Username: u.Username,
			Name:     u.Name,
			Email:    u.Email,
			Groups:   strings.Join(u.Groups, ", "),
			Checked:  u.Username == selected,
		})
	}
	i.renderPage(w, status, "login.html", func(nonce string) any {
		page.StyleNonce = nonce
		return page
	})
}

func (i *Issuer) renderMessage(w http.ResponseWriter, status int, title, message string) {
	i.renderPage(w, status, "message.html", func(nonce string) any {
		return messagePage{StyleNonce: nonce, Title: title, Message: message}
	})
}

// renderPage executes a template into a buffer first, so a template error
// becomes a clean 500 rather than half a page.
func (i *Issuer) renderPage(w http.ResponseWriter, status int, name string, data func(styleNonce string) any) {
	nonce := randomToken()[:22]
	var buf bytes.Buffer
	if err := i.pages.ExecuteTemplate(&buf, name, data(nonce)); err != nil {
		i.log.Error("devidp: render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	// No scripts, no external anything, and no framing (clickjacking a
	// login button). form-action is left out on purpose: browsers apply it
	// to the redirect after the POST, which leaves for the client's origin.
	h.Set("Content-Security-Policy",
		"default-src 'none'; style-src 'nonce-"+nonce+"'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
