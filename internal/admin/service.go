package admin

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/htgate/htgate/internal/scheme"
	"github.com/htgate/htgate/internal/store"
)

// The operations below are shared by the API and the panel: they
// validate their input field by field (returning invalidError), call the
// store, and turn the store's conflicts about a field into field errors.

// Password rules for passwords set through the API and the panel.
const (
	MinPasswordLen = 8    // characters
	MaxPasswordLen = 1024 // bytes
)

// checkPassword checks a new password.
func checkNewPassword(field, pw string) error {
	switch {
	case pw == "":
		return invalid(field, "enter a password")
	case !utf8.ValidString(pw):
		return invalid(field, "the password is not valid UTF-8")
	case utf8.RuneCountInString(pw) < MinPasswordLen:
		return invalid(field, "use at least %d characters", MinPasswordLen)
	case len(pw) > MaxPasswordLen:
		return invalid(field, "use at most %d bytes", MaxPasswordLen)
	}
	for _, r := range pw {
		if r < 0x20 || r == 0x7f {
			return invalid(field, "the password contains a control character")
		}
	}
	return nil
}

// userName checks a user name given in field.
func userName(field, name string) (string, error) {
	if strings.TrimSpace(name) == "" {
		return "", invalid(field, "enter a user name")
	}
	n, err := store.UserName(name)
	if err != nil {
		return "", invalid(field, "%q is not a valid user name: use letters, digits and symbols, without spaces or ':'", name)
	}
	return n, nil
}

// groupName checks a group name given in field.
func groupName(field, name string) (string, error) {
	if strings.TrimSpace(name) == "" {
		return "", invalid(field, "enter a group name")
	}
	n, err := store.GroupName(name)
	if err != nil {
		return "", invalid(field, "%q is not a valid group name: use letters, digits and symbols, without spaces or ':'", name)
	}
	return n, nil
}

// textField checks a one-line free-text field.
func textField(field, v string) error {
	if err := store.CheckText(field, v); err != nil {
		return invalid(field, "%s", strings.TrimPrefix(err.Error(), store.ErrInvalid.Error()+": "))
	}
	return nil
}

// newUser is the input of addUser.
type newUser struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	Password    string `json:"password"`
	Locked      bool   `json:"locked"`
}

// validateNewUser checks every field of a new user.
func validateNewUser(in newUser) error {
	var fe invalidError
	_, err := userName("name", in.Name)
	fe = append(fe, fields(err)...)
	fe = append(fe, fields(textField("display_name", in.DisplayName))...)
	fe = append(fe, fields(checkNewPassword("password", in.Password))...)
	if len(fe) > 0 {
		return fe
	}
	return nil
}

func (s *Server) addUser(ctx context.Context, in newUser) (store.User, error) {
	if err := validateNewUser(in); err != nil {
		return store.User{}, err
	}
	name, _ := store.UserName(in.Name)
	hash, err := s.hash([]byte(in.Password))
	if err != nil {
		return store.User{}, fmt.Errorf("hash password: %w", err)
	}
	u, err := s.st.AddUser(ctx, store.User{Name: in.Name, DisplayName: in.DisplayName, Hash: hash, Locked: in.Locked})
	if errors.Is(err, store.ErrConflict) {
		return store.User{}, invalid("name", "a user named %q exists already", name)
	}
	return u, err
}

func (s *Server) setUserPassword(ctx context.Context, name, pw string) (store.User, error) {
	if err := checkNewPassword("password", pw); err != nil {
		return store.User{}, err
	}
	hash, err := s.hash([]byte(pw))
	if err != nil {
		return store.User{}, fmt.Errorf("hash password: %w", err)
	}
	return s.st.UpdateUser(ctx, name, store.UserUpdate{Hash: &hash})
}

// userPatch is the input of updateUser; nil fields stay unchanged.
type userPatch struct {
	DisplayName *string `json:"display_name"`
	Locked      *bool   `json:"locked"`
}

func (s *Server) updateUser(ctx context.Context, name string, in userPatch) (store.User, error) {
	if in.DisplayName != nil {
		if err := textField("display_name", *in.DisplayName); err != nil {
			return store.User{}, err
		}
	}
	return s.st.UpdateUser(ctx, name, store.UserUpdate{DisplayName: in.DisplayName, Locked: in.Locked})
}

// removeUser removes a user. Unless force is set, it refuses (409,
// sole-access) when the user is the only one allowed into a protected URL.
func (s *Server) removeUser(ctx context.Context, name string, force bool) error {
	if !force {
		sole, err := s.st.SoleAccess(ctx, name)
		if err != nil {
			return err
		}
		if len(sole) > 0 {
			paths := make([]string, len(sole))
			for i, u := range sole {
				paths[i] = u.URLKey.String()
			}
			return &httpError{status: http.StatusConflict, kind: "sole-access", soleAccess: sole,
				detail: fmt.Sprintf("%s is the only user allowed into %s: nobody could enter after the removal. Remove anyway with force (API: ?force=true; CLI: --force)", name, strings.Join(paths, ", "))}
		}
	}
	return s.st.RemoveUser(ctx, name)
}

func (s *Server) addGroup(ctx context.Context, name string) (store.Group, error) {
	n, err := groupName("name", name)
	if err != nil {
		return store.Group{}, err
	}
	g, err := s.st.AddGroup(ctx, name)
	if errors.Is(err, store.ErrConflict) {
		return store.Group{}, invalid("name", "a group named %q exists already", n)
	}
	return g, err
}

func (s *Server) addMember(ctx context.Context, group, user string) error {
	if _, err := userName("user", user); err != nil {
		return err
	}
	if _, err := s.st.User(ctx, user); errors.Is(err, store.ErrNotFound) {
		return invalid("user", "there is no user named %q", user)
	}
	err := s.st.AddMember(ctx, group, user)
	if errors.Is(err, store.ErrConflict) {
		return invalid("user", "%s is a member of %s already", user, group)
	}
	return err
}

// urlKey checks a protected URL's host and path.
func urlKey(host, path string) (store.URLKey, error) {
	var fe invalidError
	if strings.TrimSpace(path) == "" {
		fe = append(fe, FieldError{"path", "enter a path, such as /members"})
	} else if _, err := store.CanonicalURLKey(store.URLKey{Path: path}); err != nil {
		fe = append(fe, FieldError{"path", storeDetail(err)})
	}
	if _, err := store.CanonicalURLKey(store.URLKey{Host: host, Path: "/"}); err != nil {
		fe = append(fe, FieldError{"host", storeDetail(err)})
	}
	if len(fe) > 0 {
		return store.URLKey{}, fe
	}
	return store.CanonicalURLKey(store.URLKey{Host: host, Path: path})
}

// storeDetail is a store validation error without its "invalid: " prefix.
func storeDetail(err error) string {
	return strings.TrimPrefix(err.Error(), store.ErrInvalid.Error()+": ")
}

// newURL is the input of protect.
type newURL struct {
	Host    string   `json:"host"`
	Path    string   `json:"path"`
	Realm   string   `json:"realm"`
	Schemes []string `json:"schemes"`
}

func (s *Server) protect(ctx context.Context, in newURL) (store.URL, error) {
	key, err := urlKey(in.Host, in.Path)
	fe := fields(err)
	fe = append(fe, fields(textField("realm", in.Realm))...)
	schemes, err := store.CanonicalSchemes(in.Schemes)
	if err != nil {
		fe = append(fe, FieldError{"schemes", storeDetail(err)})
	}
	if len(fe) > 0 {
		return store.URL{}, invalidError(fe)
	}
	u, err := s.st.Protect(ctx, store.URL{URLKey: key, Realm: in.Realm, Schemes: schemes})
	if errors.Is(err, store.ErrConflict) {
		return store.URL{}, invalid("path", "%s is protected already", key)
	}
	return u, err
}

// urlPatch is the input of updateURL; nil fields stay unchanged.
type urlPatch struct {
	Realm   *string  `json:"realm"`
	Schemes []string `json:"schemes"`
}

func (s *Server) updateURL(ctx context.Context, key store.URLKey, in urlPatch) (store.URL, error) {
	var fe invalidError
	if in.Realm != nil {
		fe = append(fe, fields(textField("realm", *in.Realm))...)
	}
	var schemes []string
	if in.Schemes != nil {
		sc, err := store.CanonicalSchemes(in.Schemes)
		if err != nil {
			fe = append(fe, FieldError{"schemes", storeDetail(err)})
		}
		schemes = sc
	}
	if len(fe) > 0 {
		return store.URL{}, fe
	}
	return s.st.UpdateURL(ctx, key, store.URLUpdate{Realm: in.Realm, Schemes: schemes})
}

// grantInput is a grant as requests give it.
type grantInput struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// checkGrant checks a grant's kind and name.
func checkGrant(in grantInput) (store.Grant, error) {
	switch store.GrantKind(in.Kind) {
	case store.GrantValidUser:
		if in.Name != "" {
			return store.Grant{}, invalid("name", "valid-user admits every user who signs in: give no name")
		}
		return store.Grant{Kind: store.GrantValidUser}, nil
	case store.GrantUser:
		n, err := userName("name", in.Name)
		return store.Grant{Kind: store.GrantUser, Name: n}, err
	case store.GrantGroup:
		n, err := groupName("name", in.Name)
		return store.Grant{Kind: store.GrantGroup, Name: n}, err
	}
	return store.Grant{}, invalid("kind", "want user, group or valid-user")
}

func (s *Server) grant(ctx context.Context, key store.URLKey, in grantInput) (store.Grant, error) {
	g, err := checkGrant(in)
	if err != nil {
		return g, err
	}
	if _, err := s.st.URL(ctx, key); err != nil {
		return g, err
	}
	switch g.Kind {
	case store.GrantUser:
		if _, err := s.st.User(ctx, g.Name); errors.Is(err, store.ErrNotFound) {
			return g, invalid("name", "there is no user named %q", g.Name)
		}
	case store.GrantGroup:
		if _, err := s.st.Group(ctx, g.Name); errors.Is(err, store.ErrNotFound) {
			return g, invalid("name", "there is no group named %q", g.Name)
		}
	}
	err = s.st.Grant(ctx, key, g)
	if errors.Is(err, store.ErrConflict) {
		return g, invalid("name", "%s may enter %s already", g, key)
	}
	return g, err
}

func (s *Server) revoke(ctx context.Context, key store.URLKey, in grantInput) (store.Grant, error) {
	g, err := checkGrant(in)
	if err != nil {
		return g, err
	}
	return g, s.st.Revoke(ctx, key, g)
}

// newToken is the input of issueToken.
type newToken struct {
	Name string `json:"name"`
	// ExpiresIn is a Go duration ("720h"); "" or "0" means no expiry.
	ExpiresIn string `json:"expires_in"`
	// ReadOnly issues a token with the "read" scope.
	ReadOnly bool `json:"read_only"`
	// User asks for a user's Bearer token for protected URLs (htg_...),
	// limited to Scopes (path prefixes), rather than an admin API token.
	User   string   `json:"user"`
	Scopes []string `json:"scopes"`
}

// MaxTokenLifetime bounds expires_in.
const MaxTokenLifetime = 5 * 365 * 24 * time.Hour

// issueToken issues an admin API token owned by admin and returns it with
// the secret, which is not stored and cannot be shown again.
func (s *Server) issueToken(ctx context.Context, admin string, in newToken) (store.Token, string, error) {
	var fe invalidError
	if in.User == "" && len(in.Scopes) > 0 {
		fe = append(fe, FieldError{"scopes", "only for a user's Bearer token (give user)"})
	}
	if in.User != "" && in.ReadOnly {
		fe = append(fe, FieldError{"read_only", "only for admin API tokens: a user's token is limited with scopes"})
	}
	for _, sc := range in.Scopes {
		if !strings.HasPrefix(sc, "/") || strings.ContainsAny(sc, " \t\r\n?#\\") || len(sc) > 1024 {
			fe = append(fe, FieldError{"scopes", "absolute paths such as /api"})
			break
		}
	}
	fe = append(fe, fields(textField("name", in.Name))...)
	var expires time.Time
	if in.ExpiresIn != "" && in.ExpiresIn != "0" {
		d, err := time.ParseDuration(in.ExpiresIn)
		switch {
		case err != nil:
			fe = append(fe, FieldError{"expires_in", "a duration such as 720h (30 days), or 0 for no expiry"})
		case d <= 0 || d > MaxTokenLifetime:
			fe = append(fe, FieldError{"expires_in", fmt.Sprintf("between 1s and %v", MaxTokenLifetime)})
		default:
			expires = s.now().Add(d).UTC()
		}
	}
	if len(fe) > 0 {
		return store.Token{}, "", fe
	}
	id := hex.EncodeToString(randomBytes(6))
	if in.User != "" {
		// A user's Bearer token for protected URLs (scheme's htg_ format).
		secret, err := scheme.NewToken()
		if err != nil {
			return store.Token{}, "", err
		}
		t, err := s.st.AddToken(ctx, store.Token{ID: id, User: in.User, Hash: scheme.TokenHash(secret), Name: in.Name, Scopes: in.Scopes, Expires: expires})
		if err != nil {
			return store.Token{}, "", err
		}
		return t, secret, nil
	}
	secret := TokenPrefix + id + "_" + base64.RawURLEncoding.EncodeToString(randomBytes(32))
	sum := sha256.Sum256([]byte(secret))
	t := store.Token{ID: id, Admin: admin, Hash: hex.EncodeToString(sum[:]), Name: in.Name, Expires: expires}
	if in.ReadOnly {
		t.Scopes = []string{ScopeRead}
	}
	t, err := s.st.AddToken(ctx, t)
	if err != nil {
		return store.Token{}, "", err
	}
	return t, secret, nil
}

// revokeToken revokes a token. Admins may revoke any token; viewers only
// their own.
func (s *Server) revokeToken(ctx context.Context, p *principal, id string) error {
	t, err := s.st.Token(ctx, id)
	if err != nil {
		return err
	}
	if !p.canWrite() && t.Admin != p.name {
		return errReadOnly
	}
	return s.st.RevokeToken(ctx, id)
}

// passwordChange is the input of changeOwnPassword.
type passwordChange struct {
	Current string `json:"current_password"`
	New     string `json:"new_password"`
}

// changeOwnPassword changes the signed-in admin's password after checking
// the current one (under the login guard), and ends the admin's other
// sessions.
func (s *Server) changeOwnPassword(r *http.Request, p *principal, in passwordChange) error {
	ctx := r.Context()
	var fe invalidError
	if in.Current == "" {
		fe = append(fe, FieldError{"current_password", "enter your current password"})
	}
	fe = append(fe, fields(checkNewPassword("new_password", in.New))...)
	if len(fe) == 0 && in.New == in.Current {
		fe = append(fe, FieldError{"new_password", "choose a password other than the current one"})
	}
	if len(fe) > 0 {
		return fe
	}
	_, ok, retry, err := s.verifyAdmin(r, p.name, []byte(in.Current))
	switch {
	case err != nil:
		return err
	case retry > 0:
		return tooMany(retry)
	case !ok:
		return invalid("current_password", "this is not your current password")
	}
	hash, err := s.hash([]byte(in.New))
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	if _, err := s.st.UpdateAdmin(ctx, p.name, store.AdminUpdate{Hash: &hash}); err != nil {
		return err
	}
	s.sessions.endAdmin(p.name, p.sess)
	return nil
}
