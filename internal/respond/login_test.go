package respond

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestLoginPages(t *testing.T) {
	r, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		lang string
		l    Login
		want []string
	}{
		{"en", Login{Kind: LoginForm, Action: "/.htgate/login", Return: "/a?b=<c>", CSRF: "tok", Realm: "Members"}, []string{`lang="en"`, "Sign in", `value="tok"`, `value="/a?b=&lt;c&gt;"`, "Members", `autocomplete="current-password"`}},
		{"ru", Login{Kind: LoginFailed, Action: "/.htgate/login", User: `"><script>`, CSRF: "tok"}, []string{`lang="ru"`, "Войти", "Неверное имя", `value="&#34;&gt;&lt;script&gt;"`, `role="alert"`}},
		{"en", Login{Kind: LogoutConfirm, Action: "/.htgate/logout", CSRF: "tok"}, []string{"Sign out", `id="logout"`}},
		{"ru", Login{Kind: LoginSignedOut, Action: "/.htgate/login"}, []string{"Вы вышли"}},
		{"en", Login{Kind: LoginExpiredForm, Action: "/.htgate/login"}, []string{"too old"}},
	} {
		req := httptest.NewRequest("GET", "/.htgate/login", nil)
		req.Header.Set("Accept-Language", tt.lang)
		w := httptest.NewRecorder()
		r.Login(w, req, http.StatusOK, tt.l)
		body := w.Body.String()
		if w.Code != 200 {
			t.Fatalf("Login(%v, %s) = %d\n%s", tt.l.Kind, tt.lang, w.Code, body)
		}
		for _, s := range tt.want {
			if !strings.Contains(body, s) {
				t.Errorf("Login(%v, %s): no %q in\n%s", tt.l.Kind, tt.lang, s, body)
			}
		}
		if strings.Contains(body, "<script>") {
			t.Errorf("Login(%v): unescaped input", tt.l.Kind)
		}
		if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self'") || strings.Contains(csp, "script-src") {
			t.Errorf("CSP = %q", csp)
		}
	}
}
