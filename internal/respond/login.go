package respond

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"html/template"
	"net/http"
	"strconv"
)

//go:embed templates/login.html
var loginFS embed.FS

// loginTemplate is parsed once; it is never modified afterwards.
var loginTemplate = template.Must(template.ParseFS(loginFS, "templates/login.html"))

// loginCSS styles the login form on top of the error pages' stylesheet.
const loginCSS = `form{display:grid;gap:.5rem;margin:1rem 0}label{font-weight:600;margin-top:.5rem}` +
	`input{font:inherit;padding:.625rem .75rem;border:1px solid var(--line);border-radius:.375rem;background:var(--bg);color:var(--fg);width:100%}` +
	`input:focus,button:focus{outline:.1875rem solid var(--accent);outline-offset:.125rem}` +
	`button{font:inherit;font-weight:600;margin-top:1rem;padding:.75rem 1rem;border:0;border-radius:.375rem;background:var(--accent);color:#fff;cursor:pointer;min-height:2.75rem}` +
	`@media (prefers-color-scheme:dark){button{color:#141414}}` +
	`.message{padding:.75rem 1rem;border-inline-start:.25rem solid var(--accent);background:var(--code)}`

// LoginKind says which page of the form login to show.
type LoginKind int

// The login pages.
const (
	// LoginForm asks for a user name and password.
	LoginForm LoginKind = iota
	// LoginFailed is the form again after a failed attempt, with a message
	// that does not say whether the user or the password was wrong.
	LoginFailed
	// LoginExpiredForm is the form again after a post whose CSRF token
	// was missing or wrong (an old tab, or a forged request).
	LoginExpiredForm
	// LoginSignedOut is the form after a logout, saying so.
	LoginSignedOut
	// LogoutConfirm asks to confirm a logout with a button.
	LogoutConfirm
)

// Login is what a login or logout page shows.
type Login struct {
	Kind LoginKind
	// Action is where the form posts (the login or logout endpoint).
	Action string
	// Return is the same-site path to go to after signing in.
	Return string
	// CSRF is the form's anti-forgery token.
	CSRF string
	// User fills in the user name after a failed attempt.
	User string
	// Realm names the protected area.
	Realm string
	// RefID is the request's reference id.
	RefID string
}

type loginText struct {
	SignInTitle, LogoutTitle, User, Password, SignIn, Failed, Expired, SignedOut,
	LogoutQuestion, LogoutButton, Cookie, Ref string
}

var loginTexts = map[string]loginText{
	"en": {
		SignInTitle: "Sign in", LogoutTitle: "Sign out", User: "User name", Password: "Password", SignIn: "Sign in",
		Failed:         "The user name or password is not right, or this account cannot sign in now. Try again.",
		Expired:        "This form was too old to accept. Please sign in again.",
		SignedOut:      "You are signed out.",
		LogoutQuestion: "Sign out of this site on this browser?",
		LogoutButton:   "Sign out",
		Cookie:         "Signing in sets a cookie that only keeps you signed in.",
		Ref:            "Reference:",
	},
	"ru": {
		SignInTitle: "Вход", LogoutTitle: "Выход", User: "Имя пользователя", Password: "Пароль", SignIn: "Войти",
		Failed:         "Неверное имя пользователя или пароль, либо эта учётная запись сейчас не может войти. Попробуйте ещё раз.",
		Expired:        "Эта форма устарела. Пожалуйста, войдите ещё раз.",
		SignedOut:      "Вы вышли.",
		LogoutQuestion: "Выйти с этого сайта в этом браузере?",
		LogoutButton:   "Выйти",
		Cookie:         "При входе сохраняется cookie, которая нужна только для того, чтобы вы оставались в системе.",
		Ref:            "Номер обращения:",
	},
}

type loginData struct {
	Login
	Lang, Title, Message string
	Logout               bool
	Style                template.CSS
	T                    loginText
}

// Login writes a login or logout page with status, in the visitor's
// language (English or Russian, by Accept-Language), with a strict
// Content-Security-Policy: no scripts, the one inline style, forms posting
// only to this site. It is never cached.
func (r *Responder) Login(w http.ResponseWriter, req *http.Request, status int, l Login) {
	var acceptLang []string
	if req != nil {
		acceptLang = req.Header.Values("Accept-Language")
	}
	lang := r.langs[r.langCache.match(r.matcher, acceptLang)].tag
	base, _ := lang.Base()
	code := base.String()
	t, ok := loginTexts[code]
	if !ok {
		code, t = "en", loginTexts["en"]
	}
	d := loginData{Login: l, Lang: code, T: t, Title: t.SignInTitle, Style: r.style + template.CSS(loginCSS)}
	switch l.Kind {
	case LoginFailed:
		d.Message = t.Failed
	case LoginExpiredForm:
		d.Message = t.Expired
	case LoginSignedOut:
		d.Message = t.SignedOut
	case LogoutConfirm:
		d.Title, d.Logout = t.LogoutTitle, true
	}
	d.Login.RefID = sanitizeRefID(l.RefID)
	var buf bytes.Buffer
	if err := loginTemplate.Execute(&buf, d); err != nil {
		r.log.Error("respond: login page", "err", err)
		r.Error(w, req, http.StatusInternalServerError, "server_error", l.RefID)
		return
	}
	sum := sha256.Sum256([]byte(d.Style))
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+
		"'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", code)
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Vary", "Accept-Language, Cookie")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	if req == nil || req.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}
