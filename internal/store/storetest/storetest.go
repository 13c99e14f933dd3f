// Package storetest is the conformance suite of the managed store: every
// backend (store/sqlite now, PostgreSQL later) runs Run against a fresh,
// empty store per subtest and must pass all of it.
package storetest

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/htgate/htgate/internal/store"
)

// Hashes for the password "pw" in several formats, as Apache's htpasswd
// writes them; the suite only stores and compares them.
const (
	BcryptHash = "$2y$05$pC7ZLVZUqVIr9fmSyHbDte6Zjtbi0gyVnWjNWBPfTXU9W8Ro5Eb3."
	APR1Hash   = "$apr1$n2ViD0NI$jdrAAIkwNlBpQ.YMgUF7d1"
	SHA1Hash   = "{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM="
)

// Run runs the suite. newStore returns a new, empty store; Run closes it.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Users", testUsers},
		{"UserNames", testUserNames},
		{"UserUpdate", testUserUpdate},
		{"UserPaging", testUserPaging},
		{"Groups", testGroups},
		{"URLs", testURLs},
		{"URLPaging", testURLPaging},
		{"Grants", testGrants},
		{"SoleAccess", testSoleAccess},
		{"Cascades", testCascades},
		{"Tokens", testTokens},
		{"Admins", testAdmins},
		{"Audit", testAudit},
		{"Version", testVersion},
		{"Snapshot", testSnapshot},
		{"SnapshotReuse", testSnapshotReuse},
		{"SnapshotIncremental", testSnapshotIncremental},
		{"DummyFollowsUsers", testDummyFollowsUsers},
		{"ImportUsers", testImportUsers},
		{"ImportDigest", testImportDigest},
		{"ImportMembers", testImportMembers},
		{"ConcurrentWrites", testConcurrentWrites},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tt.fn(t, s)
		})
	}
}

func ctxFor(t *testing.T) context.Context {
	return store.WithActor(t.Context(), store.Actor{Name: "tester", Client: "198.51.100.1", RefID: "ref-1"})
}

// get turns a (value, error) result into a function of t that fails the
// test on error: get(s.User(ctx, "a"))(t).
func get[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: error %v, want %v", what, err, want)
	}
}

// ignoreTimes compares everything but the store-set times.
var ignoreTimes = cmpopts.IgnoreFields(store.User{}, "Created", "Changed")

func testUsers(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	before := time.Now().Add(-time.Second)
	u := get(s.AddUser(ctx, store.User{Name: "alice", Hash: BcryptHash}))(t)
	after := time.Now().Add(time.Second)
	if u.Created.Before(before) || u.Created.After(after) || !u.Changed.Equal(u.Created) {
		t.Errorf("AddUser times = %v, %v, want now", u.Created, u.Changed)
	}
	got := get(s.User(ctx, "alice"))(t)
	want := store.User{Name: "alice", Hash: BcryptHash, Groups: []string{}}
	if diff := cmp.Diff(want, got, ignoreTimes); diff != "" {
		t.Errorf("User(alice) (-want +got):\n%s", diff)
	}
	if !got.Created.Equal(u.Created) {
		t.Errorf("User(alice).Created = %v, want %v as AddUser returned", got.Created, u.Created)
	}
	_, err := s.AddUser(ctx, store.User{Name: "alice", Hash: APR1Hash})
	wantErr(t, "AddUser(alice) again", err, store.ErrConflict)
	_, err = s.AddUser(ctx, store.User{Name: "ALICE", Hash: APR1Hash})
	wantErr(t, "AddUser(ALICE)", err, store.ErrConflict)
	_, err = s.User(ctx, "bob")
	wantErr(t, "User(bob)", err, store.ErrNotFound)
	for _, bad := range []store.User{
		{Name: "", Hash: BcryptHash},
		{Name: "a b", Hash: BcryptHash},
		{Name: "a:b", Hash: BcryptHash},
		{Name: "carol", Hash: "plaintext"},
		{Name: "carol", Hash: "$2y$99$pC7ZLVZUqVIr9fmSyHbDte6Zjtbi0gyVnWjNWBPfTXU9W8Ro5Eb3."},
		{Name: "carol", Hash: BcryptHash, DisplayName: "line\nbreak"},
	} {
		_, err := s.AddUser(ctx, bad)
		wantErr(t, fmt.Sprintf("AddUser(%q, %q, %q)", bad.Name, bad.Hash, bad.DisplayName), err, store.ErrInvalid)
	}
	// A user without a password hash (htdigest only) is allowed.
	get(s.AddUser(ctx, store.User{Name: "digestonly", Locked: true}))(t)
	if err := s.RemoveUser(ctx, "Alice"); err != nil {
		t.Fatalf("RemoveUser(Alice): %v", err)
	}
	wantErr(t, "RemoveUser(alice) again", s.RemoveUser(ctx, "alice"), store.ErrNotFound)
	_, err = s.User(ctx, "alice")
	wantErr(t, "User(alice) after removal", err, store.ErrNotFound)
	list := get(s.ListUsers(ctx, store.Page{}))(t)
	if len(list) != 1 || list[0].Name != "digestonly" || !list[0].Locked || list[0].Hash != "" {
		t.Errorf("ListUsers = %+v, want digestonly (locked, no hash)", list)
	}
}

func testUserNames(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	tests := []struct{ in, name, display string }{
		{"alice", "alice", ""},
		{"Bob", "bob", "Bob"},
		{"JOS\u00c9", "jos\u00e9", "JOS\u00c9"},
		{"\uff43\uff41\uff52\uff4f\uff4c", "carol", "\uff43\uff41\uff52\uff4f\uff4c"},
	}
	for _, tt := range tests {
		u, err := s.AddUser(ctx, store.User{Name: tt.in, Hash: SHA1Hash})
		if err != nil || u.Name != tt.name || u.DisplayName != tt.display {
			t.Errorf("AddUser(%q) = %q (display %q), %v, want %q (display %q)", tt.in, u.Name, u.DisplayName, err, tt.name, tt.display)
		}
		got, err := s.User(ctx, strings.ToUpper(tt.name))
		if err != nil || got.Name != tt.name {
			t.Errorf("User(%q) = %q, %v, want %q", strings.ToUpper(tt.name), got.Name, err, tt.name)
		}
	}
	u := get(s.AddUser(ctx, store.User{Name: "Dave", DisplayName: "Dave Bowman", Hash: SHA1Hash}))(t)
	if u.DisplayName != "Dave Bowman" {
		t.Errorf("AddUser with a display name: %q", u.DisplayName)
	}
}

func testUserUpdate(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	orig := get(s.AddUser(ctx, store.User{Name: "alice", Hash: BcryptHash}))(t)
	time.Sleep(2 * time.Millisecond)
	lock, hash, display := true, APR1Hash, "Alice L."
	u := get(s.UpdateUser(ctx, "ALICE", store.UserUpdate{Locked: &lock, Hash: &hash, DisplayName: &display}))(t)
	if !u.Locked || u.Hash != APR1Hash || u.DisplayName != display {
		t.Errorf("UpdateUser = %+v, want locked, apr1, display name", u)
	}
	if !u.Changed.After(orig.Changed) || !u.Created.Equal(orig.Created) {
		t.Errorf("UpdateUser times: created %v changed %v, want created %v and changed later", u.Created, u.Changed, orig.Created)
	}
	unlock := false
	u = get(s.UpdateUser(ctx, "alice", store.UserUpdate{Locked: &unlock}))(t)
	if u.Locked || u.Hash != APR1Hash || u.DisplayName != display {
		t.Errorf("unlock changed other fields: %+v", u)
	}
	bad := "nonsense"
	_, err := s.UpdateUser(ctx, "alice", store.UserUpdate{Hash: &bad})
	wantErr(t, "UpdateUser(bad hash)", err, store.ErrInvalid)
	_, err = s.UpdateUser(ctx, "nobody", store.UserUpdate{Locked: &lock})
	wantErr(t, "UpdateUser(nobody)", err, store.ErrNotFound)
	if u := get(s.UpdateUser(ctx, "alice", store.UserUpdate{}))(t); u.Name != "alice" {
		t.Errorf("empty UpdateUser = %+v", u)
	}
}

func testUserPaging(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	var want []string
	for i := range 25 {
		n := fmt.Sprintf("user%02d", 24-i)
		get(s.AddUser(ctx, store.User{Name: n, Hash: SHA1Hash}))(t)
		want = append(want, n)
	}
	get(s.AddGroup(ctx, "g"))(t)
	if err := s.AddMember(ctx, "g", "user10"); err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)
	var got []string
	after := ""
	for pages := 0; ; pages++ {
		page := get(s.ListUsers(ctx, store.Page{After: after, Limit: 10}))(t)
		if len(page) == 0 {
			break
		}
		if pages > 3 {
			t.Fatal("paging does not end")
		}
		for _, u := range page {
			got = append(got, u.Name)
			if wantGroups := []string{}; u.Name == "user10" {
				if !slices.Equal(u.Groups, []string{"g"}) {
					t.Errorf("user10 groups = %v, want [g]", u.Groups)
				}
			} else if !slices.Equal(u.Groups, wantGroups) {
				t.Errorf("%s groups = %v, want none", u.Name, u.Groups)
			}
		}
		after = page[len(page)-1].Name
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("users over pages (-want +got):\n%s", diff)
	}
}

func testGroups(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	for _, n := range []string{"alice", "bob", "carol"} {
		get(s.AddUser(ctx, store.User{Name: n, Hash: SHA1Hash}))(t)
	}
	g := get(s.AddGroup(ctx, "Staff"))(t)
	if g.Name != "staff" || len(g.Members) != 0 {
		t.Errorf("AddGroup(Staff) = %+v", g)
	}
	_, err := s.AddGroup(ctx, "staff")
	wantErr(t, "AddGroup(staff) again", err, store.ErrConflict)
	_, err = s.AddGroup(ctx, "bad name")
	wantErr(t, "AddGroup(bad name)", err, store.ErrInvalid)
	get(s.AddGroup(ctx, "admins"))(t)
	for _, m := range [][2]string{{"staff", "carol"}, {"staff", "Alice"}, {"admins", "alice"}} {
		if err := s.AddMember(ctx, m[0], m[1]); err != nil {
			t.Fatalf("AddMember(%s, %s): %v", m[0], m[1], err)
		}
	}
	wantErr(t, "AddMember again", s.AddMember(ctx, "staff", "alice"), store.ErrConflict)
	wantErr(t, "AddMember(no group)", s.AddMember(ctx, "nogroup", "alice"), store.ErrNotFound)
	wantErr(t, "AddMember(no user)", s.AddMember(ctx, "staff", "nobody"), store.ErrNotFound)
	got := get(s.Group(ctx, "STAFF"))(t)
	if !slices.Equal(got.Members, []string{"alice", "carol"}) {
		t.Errorf("Group(staff).Members = %v, want [alice carol]", got.Members)
	}
	u := get(s.User(ctx, "alice"))(t)
	if !slices.Equal(u.Groups, []string{"admins", "staff"}) {
		t.Errorf("alice's groups = %v, want [admins staff]", u.Groups)
	}
	list := get(s.ListGroups(ctx, store.Page{}))(t)
	gotList := map[string][]string{}
	var order []string
	for _, g := range list {
		gotList[g.Name] = g.Members
		order = append(order, g.Name)
	}
	if diff := cmp.Diff(map[string][]string{"admins": {"alice"}, "staff": {"alice", "carol"}}, gotList); diff != "" || !slices.Equal(order, []string{"admins", "staff"}) {
		t.Errorf("ListGroups = %v (order %v), diff:\n%s", gotList, order, diff)
	}
	if page := get(s.ListGroups(ctx, store.Page{After: "admins", Limit: 1}))(t); len(page) != 1 || page[0].Name != "staff" || len(page[0].Members) != 2 {
		t.Errorf("ListGroups after admins = %+v", page)
	}
	if err := s.RemoveMember(ctx, "staff", "alice"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "RemoveMember again", s.RemoveMember(ctx, "staff", "alice"), store.ErrNotFound)
	wantErr(t, "RemoveMember(no group)", s.RemoveMember(ctx, "none", "alice"), store.ErrNotFound)
	if err := s.RemoveGroup(ctx, "admins"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "RemoveGroup again", s.RemoveGroup(ctx, "admins"), store.ErrNotFound)
	_, err = s.Group(ctx, "admins")
	wantErr(t, "Group(admins) after removal", err, store.ErrNotFound)
	if u := get(s.User(ctx, "alice"))(t); len(u.Groups) != 0 {
		t.Errorf("alice's groups after removals = %v", u.Groups)
	}
}

func key(host, path string) store.URLKey { return store.URLKey{Host: host, Path: path} }

func testURLs(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	u := get(s.Protect(ctx, store.URL{URLKey: key("", "/members/"), Realm: "Members"}))(t)
	if u.Path != "/members" || u.Host != "" || u.Realm != "Members" || !slices.Equal(u.Schemes, []string{"basic"}) || u.ID == 0 || len(u.Grants) != 0 {
		t.Errorf("Protect(/members/) = %+v", u)
	}
	_, err := s.Protect(ctx, store.URL{URLKey: key("", "/members")})
	wantErr(t, "Protect(/members) again", err, store.ErrConflict)
	h := get(s.Protect(ctx, store.URL{URLKey: key("Example.COM.", "/members"), Schemes: []string{"Digest", "basic", "digest"}}))(t)
	if h.Host != "example.com" || !slices.Equal(h.Schemes, []string{"digest", "basic"}) || h.ID == u.ID {
		t.Errorf("Protect(Example.COM./members) = %+v", h)
	}
	get(s.Protect(ctx, store.URL{URLKey: key("", "/")}))(t)
	get(s.Protect(ctx, store.URL{URLKey: key("[::1]", "/caf\u00e9")}))(t)
	for _, bad := range []store.URL{
		{URLKey: key("", "members")},
		{URLKey: key("", "/a//b")},
		{URLKey: key("", "/a/../b")},
		{URLKey: key("", "/a;x")},
		{URLKey: key("", "/a?x")},
		{URLKey: key("", "/a%2fb")},
		{URLKey: key("", "/a\x00")},
		{URLKey: key("host:8080", "/a")},
		{URLKey: key("h\u00f6st", "/a")},
		{URLKey: key("", "/a"), Schemes: []string{"ntlm"}},
		{URLKey: key("", "/a"), Realm: "two\nlines"},
	} {
		_, err := s.Protect(ctx, bad)
		wantErr(t, fmt.Sprintf("Protect(%q, %q, %v, %q)", bad.Host, bad.Path, bad.Schemes, bad.Realm), err, store.ErrInvalid)
	}
	got := get(s.URL(ctx, key("EXAMPLE.com", "/members/")))(t)
	if got.ID != h.ID {
		t.Errorf("URL(EXAMPLE.com /members/) = %+v, want id %d", got, h.ID)
	}
	_, err = s.URL(ctx, key("", "/nothing"))
	wantErr(t, "URL(/nothing)", err, store.ErrNotFound)
	list := get(s.ListURLs(ctx, store.Page{}))(t)
	var keys []string
	for _, u := range list {
		keys = append(keys, u.String())
	}
	if want := []string{"/", "[::1]/caf\u00e9", "/members", "example.com/members"}; !slices.Equal(keys, want) {
		t.Errorf("ListURLs order = %q, want %q", keys, want)
	}
	realm := "Members only"
	up := get(s.UpdateURL(ctx, key("", "/members"), store.URLUpdate{Realm: &realm, Schemes: []string{"basic", "bearer"}}))(t)
	if up.Realm != realm || !slices.Equal(up.Schemes, []string{"basic", "bearer"}) || !up.Created.Equal(u.Created) {
		t.Errorf("UpdateURL = %+v", up)
	}
	_, err = s.UpdateURL(ctx, key("", "/none"), store.URLUpdate{Realm: &realm})
	wantErr(t, "UpdateURL(/none)", err, store.ErrNotFound)
	_, err = s.UpdateURL(ctx, key("", "/members"), store.URLUpdate{Schemes: []string{"kerberos"}})
	wantErr(t, "UpdateURL(kerberos)", err, store.ErrInvalid)
	if err := s.Unprotect(ctx, key("", "/members/")); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "Unprotect again", s.Unprotect(ctx, key("", "/members")), store.ErrNotFound)
	if _, err := s.URL(ctx, key("example.com", "/members")); err != nil {
		t.Errorf("the host's URL went with the host-less one: %v", err)
	}
}

func testURLPaging(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	var want []string
	for i := range 12 {
		for _, host := range []string{"", "b.example"} {
			k := key(host, fmt.Sprintf("/p%02d", i))
			get(s.Protect(ctx, store.URL{URLKey: k}))(t)
			want = append(want, k.String())
		}
	}
	var got []string
	after := ""
	for range 10 {
		page := get(s.ListURLs(ctx, store.Page{After: after, Limit: 5}))(t)
		if len(page) == 0 {
			break
		}
		for _, u := range page {
			got = append(got, u.String())
		}
		after = page[len(page)-1].String()
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("URLs over pages (-want +got):\n%s", diff)
	}
}

func testGrants(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	for _, n := range []string{"alice", "bob"} {
		get(s.AddUser(ctx, store.User{Name: n, Hash: SHA1Hash}))(t)
	}
	get(s.AddGroup(ctx, "staff"))(t)
	get(s.Protect(ctx, store.URL{URLKey: key("", "/admin")}))(t)
	k := key("", "/admin/")
	for _, g := range []store.Grant{
		{Kind: store.GrantUser, Name: "Bob"},
		{Kind: store.GrantGroup, Name: "staff"},
		{Kind: store.GrantUser, Name: "alice"},
		{Kind: store.GrantValidUser},
	} {
		if err := s.Grant(ctx, k, g); err != nil {
			t.Fatalf("Grant(%v): %v", g, err)
		}
		wantErr(t, fmt.Sprintf("Grant(%v) again", g), s.Grant(ctx, k, g), store.ErrConflict)
	}
	wantErr(t, "Grant(no user)", s.Grant(ctx, k, store.Grant{Kind: store.GrantUser, Name: "nobody"}), store.ErrNotFound)
	wantErr(t, "Grant(no group)", s.Grant(ctx, k, store.Grant{Kind: store.GrantGroup, Name: "nogroup"}), store.ErrNotFound)
	wantErr(t, "Grant(no URL)", s.Grant(ctx, key("", "/none"), store.Grant{Kind: store.GrantValidUser}), store.ErrNotFound)
	wantErr(t, "Grant(bad kind)", s.Grant(ctx, k, store.Grant{Kind: "everyone"}), store.ErrInvalid)
	wantErr(t, "Grant(valid-user with a name)", s.Grant(ctx, k, store.Grant{Kind: store.GrantValidUser, Name: "x"}), store.ErrInvalid)
	u := get(s.URL(ctx, k))(t)
	want := []store.Grant{{Kind: store.GrantValidUser}, {Kind: store.GrantUser, Name: "alice"}, {Kind: store.GrantUser, Name: "bob"}, {Kind: store.GrantGroup, Name: "staff"}}
	if diff := cmp.Diff(want, u.Grants); diff != "" {
		t.Errorf("grants (-want +got):\n%s", diff)
	}
	if list := get(s.ListURLs(ctx, store.Page{}))(t); len(list) != 1 || !cmp.Equal(list[0].Grants, want) {
		t.Errorf("ListURLs grants = %+v, want %+v", list, want)
	}
	for _, g := range []store.Grant{{Kind: store.GrantValidUser}, {Kind: store.GrantUser, Name: "BOB"}, {Kind: store.GrantGroup, Name: "staff"}} {
		if err := s.Revoke(ctx, k, g); err != nil {
			t.Fatalf("Revoke(%v): %v", g, err)
		}
		wantErr(t, fmt.Sprintf("Revoke(%v) again", g), s.Revoke(ctx, k, g), store.ErrNotFound)
	}
	wantErr(t, "Revoke(unknown user)", s.Revoke(ctx, k, store.Grant{Kind: store.GrantUser, Name: "nobody"}), store.ErrNotFound)
	if u := get(s.URL(ctx, k))(t); !cmp.Equal(u.Grants, []store.Grant{{Kind: store.GrantUser, Name: "alice"}}) {
		t.Errorf("grants after revokes = %+v", u.Grants)
	}
}

func testSoleAccess(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	for _, n := range []string{"alice", "bob"} {
		get(s.AddUser(ctx, store.User{Name: n, Hash: SHA1Hash}))(t)
	}
	get(s.AddGroup(ctx, "solo"))(t)
	get(s.AddGroup(ctx, "pair"))(t)
	for _, m := range [][2]string{{"solo", "alice"}, {"pair", "alice"}, {"pair", "bob"}} {
		if err := s.AddMember(ctx, m[0], m[1]); err != nil {
			t.Fatal(err)
		}
	}
	grants := map[string][]store.Grant{
		"/alice-only":  {{Kind: store.GrantUser, Name: "alice"}},
		"/both-users":  {{Kind: store.GrantUser, Name: "alice"}, {Kind: store.GrantUser, Name: "bob"}},
		"/solo-group":  {{Kind: store.GrantGroup, Name: "solo"}},
		"/pair-group":  {{Kind: store.GrantGroup, Name: "pair"}},
		"/alice-pair":  {{Kind: store.GrantUser, Name: "alice"}, {Kind: store.GrantGroup, Name: "pair"}},
		"/bob-only":    {{Kind: store.GrantUser, Name: "bob"}},
		"/valid-user":  {{Kind: store.GrantValidUser}},
		"/nobody":      nil,
		"/alice-solo":  {{Kind: store.GrantUser, Name: "alice"}, {Kind: store.GrantGroup, Name: "solo"}},
		"/solo-and-bo": {{Kind: store.GrantGroup, Name: "solo"}, {Kind: store.GrantUser, Name: "bob"}},
	}
	for path, gs := range grants {
		get(s.Protect(ctx, store.URL{URLKey: key("", path)}))(t)
		for _, g := range gs {
			if err := s.Grant(ctx, key("", path), g); err != nil {
				t.Fatal(err)
			}
		}
	}
	paths := func(us []store.URL) []string {
		var out []string
		for _, u := range us {
			out = append(out, u.Path)
		}
		return out
	}
	if got, want := paths(get(s.SoleAccess(ctx, "Alice"))(t)), []string{"/alice-only", "/alice-solo", "/solo-group"}; !slices.Equal(got, want) {
		t.Errorf("SoleAccess(alice) = %v, want %v", got, want)
	}
	if got, want := paths(get(s.SoleAccess(ctx, "bob"))(t)), []string{"/bob-only"}; !slices.Equal(got, want) {
		t.Errorf("SoleAccess(bob) = %v, want %v", got, want)
	}
	_, err := s.SoleAccess(ctx, "nobody")
	wantErr(t, "SoleAccess(nobody)", err, store.ErrNotFound)
	// With one user left, a valid-user URL has nobody else either.
	if err := s.RemoveUser(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	got := paths(get(s.SoleAccess(ctx, "alice"))(t))
	if !slices.Contains(got, "/valid-user") || !slices.Contains(got, "/pair-group") || slices.Contains(got, "/nobody") {
		t.Errorf("SoleAccess(alice) as the only user = %v, want /valid-user and /pair-group, not /nobody", got)
	}
}

func testCascades(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	get(s.AddUser(ctx, store.User{Name: "alice", Hash: SHA1Hash}))(t)
	get(s.AddGroup(ctx, "staff"))(t)
	if err := s.AddMember(ctx, "staff", "alice"); err != nil {
		t.Fatal(err)
	}
	get(s.Protect(ctx, store.URL{URLKey: key("", "/a")}))(t)
	for _, g := range []store.Grant{{Kind: store.GrantUser, Name: "alice"}, {Kind: store.GrantGroup, Name: "staff"}} {
		if err := s.Grant(ctx, key("", "/a"), g); err != nil {
			t.Fatal(err)
		}
	}
	get(s.AddToken(ctx, store.Token{ID: "t1", User: "alice", Hash: strings.Repeat("a", 64)}))(t)
	if _, err := s.ImportDigestSecrets(ctx, []store.DigestSecret{{User: "alice", Realm: "R", HA1: strings.Repeat("b", 32)}}, false); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if g := get(s.Group(ctx, "staff"))(t); len(g.Members) != 0 {
		t.Errorf("members after user removal = %v", g.Members)
	}
	if u := get(s.URL(ctx, key("", "/a")))(t); !cmp.Equal(u.Grants, []store.Grant{{Kind: store.GrantGroup, Name: "staff"}}) {
		t.Errorf("grants after user removal = %v", u.Grants)
	}
	_, err := s.Token(ctx, "t1")
	wantErr(t, "token after user removal", err, store.ErrNotFound)
	// A new alice does not inherit anything.
	get(s.AddUser(ctx, store.User{Name: "alice", Hash: SHA1Hash}))(t)
	snap := get(s.Snapshot(ctx, nil))(t)
	if _, _, ok := snap.Credentials.DigestSecret("alice", "R", store.DigestMD5); ok {
		t.Error("digest secret survived the user's removal")
	}
	if err := s.RemoveGroup(ctx, "staff"); err != nil {
		t.Fatal(err)
	}
	if u := get(s.URL(ctx, key("", "/a")))(t); len(u.Grants) != 0 {
		t.Errorf("grants after group removal = %v", u.Grants)
	}
	if err := s.Unprotect(ctx, key("", "/a")); err != nil {
		t.Fatal(err)
	}
}

func testTokens(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	get(s.AddUser(ctx, store.User{Name: "alice", Hash: SHA1Hash}))(t)
	get(s.AddAdmin(ctx, store.Admin{Name: "root", Hash: BcryptHash}))(t)
	h1, h2, h3 := strings.Repeat("1", 64), strings.Repeat("2", 64), strings.Repeat("3", 64)
	exp := time.Now().Add(time.Hour).Truncate(time.Microsecond).UTC()
	t1 := get(s.AddToken(ctx, store.Token{ID: "tok1", User: "Alice", Hash: h1, Name: "deploy", Scopes: []string{"read", "write"}, Expires: exp}))(t)
	if t1.User != "alice" || !t1.Expires.Equal(exp) || t1.Created.IsZero() || !t1.Revoked.IsZero() {
		t.Errorf("AddToken = %+v", t1)
	}
	time.Sleep(2 * time.Millisecond)
	get(s.AddToken(ctx, store.Token{ID: "tok2", Admin: "root", Hash: h2}))(t)
	_, err := s.AddToken(ctx, store.Token{ID: "tok1", User: "alice", Hash: h3})
	wantErr(t, "AddToken(same id)", err, store.ErrConflict)
	_, err = s.AddToken(ctx, store.Token{ID: "tok3", User: "alice", Hash: h1})
	wantErr(t, "AddToken(same hash)", err, store.ErrConflict)
	_, err = s.AddToken(ctx, store.Token{ID: "tok3", User: "nobody", Hash: h3})
	wantErr(t, "AddToken(no user)", err, store.ErrNotFound)
	for _, bad := range []store.Token{
		{ID: "x", User: "alice", Hash: "short"},
		{ID: "x", User: "alice", Hash: strings.Repeat("A", 64)},
		{ID: "x", User: "alice", Admin: "root", Hash: h3},
		{ID: "x", Hash: h3},
		{ID: "", User: "alice", Hash: h3},
		{ID: "x", User: "alice", Hash: h3, Scopes: []string{"has space"}},
	} {
		_, err := s.AddToken(ctx, bad)
		wantErr(t, fmt.Sprintf("AddToken(%+v)", bad), err, store.ErrInvalid)
	}
	got := get(s.Token(ctx, "tok1"))(t)
	if diff := cmp.Diff(t1, got, cmpopts.IgnoreFields(store.Token{}, "Created")); diff != "" {
		t.Errorf("Token(tok1) (-want +got):\n%s", diff)
	}
	if got := get(s.TokenByHash(ctx, h2))(t); got.ID != "tok2" || got.Admin != "root" || got.User != "" {
		t.Errorf("TokenByHash(h2) = %+v", got)
	}
	_, err = s.TokenByHash(ctx, h3)
	wantErr(t, "TokenByHash(h3)", err, store.ErrNotFound)
	ids := func(ts []store.Token) []string {
		var out []string
		for _, t := range ts {
			out = append(out, t.ID)
		}
		return out
	}
	if got := ids(get(s.ListTokens(ctx, store.TokenFilter{}))(t)); !slices.Equal(got, []string{"tok2", "tok1"}) {
		t.Errorf("ListTokens() = %v, want newest first [tok2 tok1]", got)
	}
	if got := ids(get(s.ListTokens(ctx, store.TokenFilter{User: "alice"}))(t)); !slices.Equal(got, []string{"tok1"}) {
		t.Errorf("ListTokens(alice) = %v", got)
	}
	if got := ids(get(s.ListTokens(ctx, store.TokenFilter{Admin: "root"}))(t)); !slices.Equal(got, []string{"tok2"}) {
		t.Errorf("ListTokens(admin root) = %v", got)
	}
	if err := s.RevokeToken(ctx, "tok1"); err != nil {
		t.Fatal(err)
	}
	first := get(s.Token(ctx, "tok1"))(t).Revoked
	if first.IsZero() {
		t.Fatal("revoked token has no revocation time")
	}
	time.Sleep(2 * time.Millisecond)
	if err := s.RevokeToken(ctx, "tok1"); err != nil {
		t.Fatal(err)
	}
	if again := get(s.Token(ctx, "tok1"))(t).Revoked; !again.Equal(first) {
		t.Errorf("second revocation moved the time from %v to %v", first, again)
	}
	wantErr(t, "RevokeToken(none)", s.RevokeToken(ctx, "none"), store.ErrNotFound)
	if err := s.RemoveAdmin(ctx, "root"); err != nil {
		t.Fatal(err)
	}
	_, err = s.Token(ctx, "tok2")
	wantErr(t, "admin's token after removal", err, store.ErrNotFound)
}

func testAdmins(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	a := get(s.AddAdmin(ctx, store.Admin{Name: "Root", Hash: BcryptHash}))(t)
	if a.Name != "root" || a.Role != store.RoleAdmin || a.Locked {
		t.Errorf("AddAdmin = %+v", a)
	}
	get(s.AddAdmin(ctx, store.Admin{Name: "viewer", Hash: BcryptHash, Role: store.RoleViewer}))(t)
	_, err := s.AddAdmin(ctx, store.Admin{Name: "root", Hash: BcryptHash})
	wantErr(t, "AddAdmin again", err, store.ErrConflict)
	for _, bad := range []store.Admin{
		{Name: "x", Hash: BcryptHash, Role: "superuser"},
		{Name: "x"},
		{Name: "x y", Hash: BcryptHash},
		{Name: "x", Hash: "plain"},
	} {
		_, err := s.AddAdmin(ctx, bad)
		wantErr(t, fmt.Sprintf("AddAdmin(%+v)", bad), err, store.ErrInvalid)
	}
	// Admins and users are separate namespaces.
	get(s.AddUser(ctx, store.User{Name: "root", Hash: SHA1Hash}))(t)
	got := get(s.Admin(ctx, "ROOT"))(t)
	if got.Hash != BcryptHash || got.Role != store.RoleAdmin {
		t.Errorf("Admin(ROOT) = %+v", got)
	}
	role, lock, hash := store.RoleViewer, true, APR1Hash
	up := get(s.UpdateAdmin(ctx, "root", store.AdminUpdate{Role: &role, Locked: &lock, Hash: &hash}))(t)
	if up.Role != store.RoleViewer || !up.Locked || up.Hash != APR1Hash {
		t.Errorf("UpdateAdmin = %+v", up)
	}
	bad := store.Role("god")
	_, err = s.UpdateAdmin(ctx, "root", store.AdminUpdate{Role: &bad})
	wantErr(t, "UpdateAdmin(bad role)", err, store.ErrInvalid)
	_, err = s.UpdateAdmin(ctx, "nobody", store.AdminUpdate{Locked: &lock})
	wantErr(t, "UpdateAdmin(nobody)", err, store.ErrNotFound)
	var names []string
	for _, a := range get(s.ListAdmins(ctx))(t) {
		names = append(names, a.Name)
	}
	if !slices.Equal(names, []string{"root", "viewer"}) {
		t.Errorf("ListAdmins = %v", names)
	}
	if err := s.RemoveAdmin(ctx, "viewer"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "RemoveAdmin again", s.RemoveAdmin(ctx, "viewer"), store.ErrNotFound)
	_, err = s.Admin(ctx, "viewer")
	wantErr(t, "Admin(viewer) after removal", err, store.ErrNotFound)
}

func testAudit(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	start := time.Now().Add(-time.Second)
	get(s.AddUser(ctx, store.User{Name: "alice", Hash: BcryptHash}))(t)
	get(s.Protect(ctx, store.URL{URLKey: key("example.com", "/admin")}))(t)
	if err := s.Grant(ctx, key("example.com", "/admin"), store.Grant{Kind: store.GrantUser, Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	lock := true
	get(s.UpdateUser(ctx, "alice", store.UserUpdate{Locked: &lock}))(t)
	// A failed write records nothing.
	_, _ = s.AddUser(ctx, store.User{Name: "alice", Hash: BcryptHash})
	events := get(s.AuditEvents(ctx, store.AuditFilter{}))(t)
	type ev struct{ Actor, Action, Target, Client, RefID, Detail string }
	var got []ev
	for _, e := range events {
		got = append(got, ev{e.Actor, e.Action, e.Target, e.Client, e.RefID, e.Detail})
		if e.Time.Before(start) || e.Time.After(time.Now().Add(time.Second)) {
			t.Errorf("event %d time %v, want now", e.ID, e.Time)
		}
		if strings.Contains(e.Detail, "$2y$") {
			t.Errorf("event %d detail holds a hash: %q", e.ID, e.Detail)
		}
	}
	want := []ev{
		{"tester", "user.lock", "alice", "198.51.100.1", "ref-1", ""},
		{"tester", "url.grant", "example.com/admin", "198.51.100.1", "ref-1", "user alice"},
		{"tester", "url.protect", "example.com/admin", "198.51.100.1", "ref-1", "schemes basic"},
		{"tester", "user.add", "alice", "198.51.100.1", "ref-1", ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audit events, newest first (-want +got):\n%s", diff)
	}
	// Record (refusals) and filters.
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	r := get(s.Record(t.Context(), store.AuditEvent{Time: old, Actor: "mallory", Action: "refusal", Client: "203.0.113.9", Reason: "logon_failed", RefID: "abc-1", Target: "/admin"}))(t)
	if r.ID == 0 || !r.Time.Equal(old) {
		t.Errorf("Record = %+v", r)
	}
	r2 := get(s.Record(t.Context(), store.AuditEvent{Action: "refusal", Reason: "acl_denied", Detail: strings.Repeat("x", 5000)}))(t)
	if r2.Actor != "system" || r2.Time.IsZero() {
		t.Errorf("Record without actor or time = %+v", r2)
	}
	for _, tt := range []struct {
		name string
		f    store.AuditFilter
		want int
	}{
		{"reason", store.AuditFilter{Reason: "logon_failed"}, 1},
		{"client", store.AuditFilter{Client: "203.0.113.9"}, 1},
		{"actor", store.AuditFilter{Actor: "tester"}, 4},
		{"action", store.AuditFilter{Action: "refusal"}, 2},
		{"target", store.AuditFilter{Target: "alice"}, 2},
		{"until", store.AuditFilter{Until: old.Add(time.Second)}, 1},
		{"since", store.AuditFilter{Since: start}, 5},
		{"limit", store.AuditFilter{Limit: 2}, 2},
		{"before", store.AuditFilter{BeforeID: r.ID}, 4},
	} {
		if got := get(s.AuditEvents(ctx, tt.f))(t); len(got) != tt.want {
			t.Errorf("AuditEvents(%s) = %d events, want %d", tt.name, len(got), tt.want)
		}
	}
	long := get(s.AuditEvents(ctx, store.AuditFilter{Reason: "acl_denied"}))(t)
	if len(long) != 1 || len(long[0].Detail) > 2000 {
		t.Errorf("a 5000-byte detail was stored as %d bytes, want it clipped", len(long[0].Detail))
	}
	n := get(s.PruneAudit(ctx, old.Add(time.Hour)))(t)
	if n != 1 {
		t.Errorf("PruneAudit removed %d, want 1", n)
	}
	if got := get(s.AuditEvents(ctx, store.AuditFilter{Actor: "mallory"}))(t); len(got) != 0 {
		t.Errorf("pruned event still listed: %+v", got)
	}
}

func testVersion(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	v := get(s.Version(ctx))(t)
	step := func(what string, wantBump bool, fn func() error) {
		t.Helper()
		err := fn()
		nv := get(s.Version(ctx))(t)
		switch {
		case wantBump && err != nil:
			t.Fatalf("%s: %v", what, err)
		case wantBump && nv <= v:
			t.Errorf("%s: version %d -> %d, want it to grow", what, v, nv)
		case !wantBump && nv != v:
			t.Errorf("%s: version %d -> %d, want unchanged", what, v, nv)
		}
		v = nv
	}
	lock := true
	step("AddUser", true, func() error { _, err := s.AddUser(ctx, store.User{Name: "a", Hash: SHA1Hash}); return err })
	step("AddUser conflict", false, func() error { _, err := s.AddUser(ctx, store.User{Name: "a", Hash: SHA1Hash}); return err })
	step("UpdateUser", true, func() error { _, err := s.UpdateUser(ctx, "a", store.UserUpdate{Locked: &lock}); return err })
	step("AddGroup", true, func() error { _, err := s.AddGroup(ctx, "g"); return err })
	step("AddMember", true, func() error { return s.AddMember(ctx, "g", "a") })
	step("RemoveMember", true, func() error { return s.RemoveMember(ctx, "g", "a") })
	step("Protect", true, func() error { _, err := s.Protect(ctx, store.URL{URLKey: key("", "/x")}); return err })
	step("Grant", true, func() error { return s.Grant(ctx, key("", "/x"), store.Grant{Kind: store.GrantValidUser}) })
	step("Grant conflict", false, func() error { return s.Grant(ctx, key("", "/x"), store.Grant{Kind: store.GrantValidUser}) })
	step("Revoke", true, func() error { return s.Revoke(ctx, key("", "/x"), store.Grant{Kind: store.GrantValidUser}) })
	step("UpdateURL", true, func() error {
		r := "R"
		_, err := s.UpdateURL(ctx, key("", "/x"), store.URLUpdate{Realm: &r})
		return err
	})
	step("AddAdmin", true, func() error { _, err := s.AddAdmin(ctx, store.Admin{Name: "root", Hash: BcryptHash}); return err })
	step("AddToken", true, func() error {
		_, err := s.AddToken(ctx, store.Token{ID: "t", User: "a", Hash: strings.Repeat("0", 64)})
		return err
	})
	step("RevokeToken", true, func() error { return s.RevokeToken(ctx, "t") })
	step("ImportUsers", true, func() error {
		_, err := s.ImportUsers(ctx, []store.User{{Name: "b", Hash: SHA1Hash}}, false)
		return err
	})
	step("reads", false, func() error {
		_, err1 := s.User(ctx, "a")
		_, err2 := s.ListURLs(ctx, store.Page{})
		_, err3 := s.Snapshot(ctx, nil)
		_, err4 := s.AuditEvents(ctx, store.AuditFilter{})
		return errors.Join(err1, err2, err3, err4)
	})
	step("Record", false, func() error { _, err := s.Record(ctx, store.AuditEvent{Action: "refusal"}); return err })
	step("Unprotect", true, func() error { return s.Unprotect(ctx, key("", "/x")) })
	step("RemoveGroup", true, func() error { return s.RemoveGroup(ctx, "g") })
	step("RemoveUser", true, func() error { return s.RemoveUser(ctx, "a") })
	step("RemoveUser again", false, func() error { return s.RemoveUser(ctx, "a") })
}

func testSnapshot(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	empty := get(s.Snapshot(ctx, nil))(t)
	if empty.Credentials.Len() != 0 || len(empty.Rules.URLs()) != 0 {
		t.Errorf("empty snapshot has %d users, %d URLs", empty.Credentials.Len(), len(empty.Rules.URLs()))
	}
	get(s.AddUser(ctx, store.User{Name: "alice", Hash: BcryptHash}))(t)
	get(s.AddUser(ctx, store.User{Name: "bob", Hash: APR1Hash, Locked: true}))(t)
	get(s.AddUser(ctx, store.User{Name: "carol", Hash: BcryptHash}))(t)
	get(s.AddGroup(ctx, "staff"))(t)
	get(s.AddGroup(ctx, "admins"))(t)
	for _, m := range [][2]string{{"staff", "alice"}, {"admins", "alice"}, {"staff", "bob"}} {
		if err := s.AddMember(ctx, m[0], m[1]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.ImportDigestSecrets(ctx, []store.DigestSecret{{User: "Dave", Realm: "Members", HA1: strings.Repeat("c", 32)}}, false); err != nil {
		t.Fatal(err)
	}
	get(s.Protect(ctx, store.URL{URLKey: key("", "/members"), Realm: "Members", Schemes: []string{"basic", "digest"}}))(t)
	get(s.Protect(ctx, store.URL{URLKey: key("example.com", "/admin")}))(t)
	for _, g := range []store.Grant{{Kind: store.GrantGroup, Name: "staff"}, {Kind: store.GrantUser, Name: "carol"}} {
		if err := s.Grant(ctx, key("", "/members"), g); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Grant(ctx, key("example.com", "/admin"), store.Grant{Kind: store.GrantValidUser}); err != nil {
		t.Fatal(err)
	}
	snap := get(s.Snapshot(ctx, nil))(t)
	if v := get(s.Version(ctx))(t); snap.Version != v {
		t.Errorf("snapshot version %d, store version %d", snap.Version, v)
	}
	c := snap.Credentials
	if c.Len() != 4 {
		t.Errorf("Len = %d, want 4 (dave has no hash but exists)", c.Len())
	}
	for _, tt := range []struct {
		user, hash string
		ok, locked bool
		groups     []string
	}{
		{"alice", BcryptHash, true, false, []string{"admins", "staff"}},
		{"bob", APR1Hash, true, true, []string{"staff"}},
		{"carol", BcryptHash, true, false, nil},
		{"dave", "", false, false, nil},
		{"nobody", "", false, false, nil},
		{"Alice", "", false, false, nil}, // the snapshot takes canonical names only
	} {
		h, ok := c.Hash(tt.user)
		if h != tt.hash || ok != tt.ok || c.Locked(tt.user) != tt.locked || !slices.Equal(c.GroupsOf(tt.user), tt.groups) {
			t.Errorf("snapshot %s: hash %q %v locked %v groups %v, want %q %v %v %v", tt.user, h, ok, c.Locked(tt.user), c.GroupsOf(tt.user), tt.hash, tt.ok, tt.locked, tt.groups)
		}
	}
	if !c.Exists("dave") || c.Exists("nobody") {
		t.Errorf("Exists(dave) = %v, Exists(nobody) = %v", c.Exists("dave"), c.Exists("nobody"))
	}
	if name, ha1, ok := c.DigestSecret("dave", "Members", store.DigestMD5); !ok || name != "Dave" || ha1 != strings.Repeat("c", 32) {
		t.Errorf("DigestSecret(dave, Members) = %q %q %v", name, ha1, ok)
	}
	if d := c.Dummy(); !strings.HasPrefix(d, "$2y$05$") || d == BcryptHash {
		t.Errorf("Dummy() = %q, want a fresh bcrypt hash of cost 5 (the most common)", d)
	}
	urls := snap.Rules.URLs()
	if len(urls) != 2 {
		t.Fatalf("snapshot URLs = %+v", urls)
	}
	wantURLs := []store.URL{
		{ID: urls[0].ID, URLKey: key("example.com", "/admin"), Schemes: []string{"basic"}, Grants: []store.Grant{{Kind: store.GrantValidUser}}},
		{ID: urls[1].ID, URLKey: key("", "/members"), Realm: "Members", Schemes: []string{"basic", "digest"},
			Grants: []store.Grant{{Kind: store.GrantUser, Name: "carol"}, {Kind: store.GrantGroup, Name: "staff"}}},
	}
	if diff := cmp.Diff(wantURLs, urls, cmpopts.IgnoreFields(store.URL{}, "Created", "Changed")); diff != "" {
		t.Errorf("snapshot URLs (-want +got):\n%s", diff)
	}
}

func testSnapshotReuse(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	get(s.AddUser(ctx, store.User{Name: "alice", Hash: BcryptHash}))(t)
	get(s.Protect(ctx, store.URL{URLKey: key("", "/a")}))(t)
	s1 := get(s.Snapshot(ctx, nil))(t)
	s2 := get(s.Snapshot(ctx, s1))(t)
	if s2.Credentials != s1.Credentials || s2.Rules != s1.Rules {
		t.Error("an unchanged store gave new snapshot parts")
	}
	get(s.Protect(ctx, store.URL{URLKey: key("", "/b")}))(t)
	s3 := get(s.Snapshot(ctx, s2))(t)
	if s3.Credentials != s2.Credentials || s3.Rules == s2.Rules || len(s3.Rules.URLs()) != 2 {
		t.Error("a URL change: want the same credentials and new rules")
	}
	d := s3.Credentials.Dummy()
	get(s.AddUser(ctx, store.User{Name: "bob", Hash: BcryptHash}))(t)
	s4 := get(s.Snapshot(ctx, s3))(t)
	if s4.Credentials == s3.Credentials || s4.Rules != s3.Rules || s4.Credentials.Len() != 2 {
		t.Error("a user change: want new credentials and the same rules")
	}
	if s4.Credentials.Dummy() != d {
		t.Error("the dummy hash was recomputed though the format and cost did not change")
	}
	get(s.AddAdmin(ctx, store.Admin{Name: "root", Hash: BcryptHash}))(t)
	s5 := get(s.Snapshot(ctx, s4))(t)
	if s5.Version <= s4.Version || s5.Credentials != s4.Credentials || s5.Rules != s4.Rules {
		t.Error("an admin change: want a new version with both parts shared")
	}
	if err := s.RemoveUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	s6 := get(s.Snapshot(ctx, s5))(t)
	if s6.Credentials == s5.Credentials || s6.Rules == s5.Rules {
		t.Error("removing a user (which may hold grants): want both parts new")
	}
}

// credDump is everything Credentials say about a set of users.
type credDump struct {
	Len     int
	Range   map[string]string // what Range yields: name -> "hash locked"
	Lookup  map[string]string // what the lookups say of each name
	Digests map[string]string // "user realm alg" -> "username ha1"
	Algs    map[string][]string
	ByHash  map[string]string
}

func dumpCredentials(c *store.Credentials, names, realms []string) credDump {
	d := credDump{Len: c.Len(), Range: map[string]string{}, Lookup: map[string]string{}, Digests: map[string]string{}, Algs: map[string][]string{}, ByHash: map[string]string{}}
	c.Range(func(user, hash string, locked bool) bool {
		d.Range[user] = fmt.Sprintf("%s %v", hash, locked)
		return true
	})
	for _, n := range names {
		h, ok := c.Hash(n)
		d.Lookup[n] = fmt.Sprintf("hash %q %v exists %v locked %v groups %v", h, ok, c.Exists(n), c.Locked(n), c.GroupsOf(n))
		for _, r := range realms {
			for _, a := range []string{store.DigestMD5, store.DigestSHA256} {
				if un, ha1, ok := c.DigestSecret(n, r, a); ok {
					d.Digests[n+" "+r+" "+a] = un + " " + ha1
					if got, ok := c.DigestUserByHash(digestHash(a, un+":"+r), r, a); ok {
						d.ByHash[n+" "+r+" "+a] = got
					}
				}
			}
		}
	}
	for _, r := range realms {
		d.Algs[r] = c.DigestAlgorithms(r)
	}
	return d
}

func digestHash(alg, s string) string {
	if alg == store.DigestSHA256 {
		return sha256hex(s)
	}
	return md5hex(s)
}

// testSnapshotIncremental checks that a snapshot built from the previous
// one and the users that changed says exactly what a full load says.
func testSnapshotIncremental(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	names := []string{"alice", "bob", "carol", "dave", "erin"}
	realms := []string{"R", "S"}
	get(s.AddUser(ctx, store.User{Name: "alice", Hash: BcryptHash}))(t)
	get(s.AddUser(ctx, store.User{Name: "bob", Hash: APR1Hash, Locked: true}))(t)
	get(s.AddGroup(ctx, "staff"))(t)
	if err := s.AddMember(ctx, "staff", "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ImportDigestSecrets(ctx, []store.DigestSecret{{User: "carol", Realm: "R", HA1: strings.Repeat("c", 32)}}, false); err != nil {
		t.Fatal(err)
	}
	prev := get(s.Snapshot(ctx, nil))(t)
	lock, unlock, hash := true, false, SHA1Hash
	steps := []struct {
		name        string
		incremental bool
		do          func() error
	}{
		{"add user", true, func() error { _, err := s.AddUser(ctx, store.User{Name: "dave", Hash: SHA1Hash}); return err }},
		{"new hash", true, func() error { _, err := s.UpdateUser(ctx, "alice", store.UserUpdate{Hash: &hash}); return err }},
		{"lock", true, func() error { _, err := s.UpdateUser(ctx, "carol", store.UserUpdate{Locked: &lock}); return err }},
		{"unlock", true, func() error { _, err := s.UpdateUser(ctx, "bob", store.UserUpdate{Locked: &unlock}); return err }},
		{"add member", true, func() error { return s.AddMember(ctx, "staff", "dave") }},
		{"remove user", true, func() error { return s.RemoveUser(ctx, "bob") }},
		{"add user again", true, func() error { _, err := s.AddUser(ctx, store.User{Name: "bob", Hash: BcryptHash}); return err }},
		{"remove member", true, func() error { return s.RemoveMember(ctx, "staff", "alice") }},
		{"add group", true, func() error { _, err := s.AddGroup(ctx, "empty"); return err }},
		{"remove group", true, func() error { return s.RemoveGroup(ctx, "staff") }},
		{"new hash drops digest", true, func() error { _, err := s.UpdateUser(ctx, "carol", store.UserUpdate{Hash: &hash}); return err }},
		{"remove a user added since the base", true, func() error { return s.RemoveUser(ctx, "dave") }},
		{"import", false, func() error {
			_, err := s.ImportDigestSecrets(ctx, []store.DigestSecret{{User: "erin", Realm: "S", HA1: strings.Repeat("e", 64)}}, false)
			return err
		}},
		{"after an import", true, func() error { _, err := s.UpdateUser(ctx, "erin", store.UserUpdate{Locked: &lock}); return err }},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		inc := get(s.Snapshot(ctx, prev))(t)
		full := get(s.Snapshot(ctx, nil))(t)
		if got, _ := inc.Credentials.Incremental(); got != st.incremental {
			t.Errorf("%s: incremental = %v, want %v", st.name, got, st.incremental)
		}
		if inc.Credentials.Version() != full.Credentials.Version() {
			t.Errorf("%s: versions %d and %d", st.name, inc.Credentials.Version(), full.Credentials.Version())
		}
		if diff := cmp.Diff(dumpCredentials(full.Credentials, names, realms), dumpCredentials(inc.Credentials, names, realms)); diff != "" {
			t.Errorf("%s: incremental snapshot differs from a full load (-full +incremental):\n%s", st.name, diff)
		}
		prev = inc
	}
}

func testImportUsers(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	get(s.AddUser(ctx, store.User{Name: "existing", Hash: SHA1Hash}))(t)
	if _, err := s.ImportDigestSecrets(ctx, []store.DigestSecret{{User: "existing", Realm: "R", HA1: strings.Repeat("a", 32)}}, false); err != nil {
		t.Fatal(err)
	}
	batch := []store.User{
		{Name: "alice", Hash: BcryptHash},
		{Name: "existing", Hash: APR1Hash},
		{Name: "bad name", Hash: BcryptHash},
		{Name: "bob", Hash: "garbage"},
		{Name: "ALICE", Hash: APR1Hash}, // same canonical name, later in the batch
		{Name: "Carol", Hash: SHA1Hash},
	}
	out := get(s.ImportUsers(ctx, batch, false))(t)
	want := []store.ImportResult{store.Imported, store.Skipped, store.Failed, store.Failed, store.Skipped, store.Imported}
	for i, o := range out {
		if o.Result != want[i] {
			t.Errorf("item %d (%s): %v (%v), want %v", i, batch[i].Name, o.Result, o.Err, want[i])
		}
	}
	wantErr(t, "skipped item", out[1].Err, store.ErrConflict)
	wantErr(t, "failed name", out[2].Err, store.ErrInvalid)
	wantErr(t, "failed hash", out[3].Err, store.ErrInvalid)
	if u := get(s.User(ctx, "existing"))(t); u.Hash != SHA1Hash {
		t.Errorf("skipped user's hash changed to %q", u.Hash)
	}
	if u := get(s.User(ctx, "carol"))(t); u.DisplayName != "Carol" || u.Hash != SHA1Hash {
		t.Errorf("imported Carol = %+v", u)
	}
	out = get(s.ImportUsers(ctx, []store.User{{Name: "existing", Hash: APR1Hash}, {Name: "new", Hash: APR1Hash}}, true))(t)
	if out[0].Result != store.Replaced || out[1].Result != store.Imported {
		t.Errorf("replace mode: %v, %v", out[0], out[1])
	}
	if u := get(s.User(ctx, "existing"))(t); u.Hash != APR1Hash {
		t.Errorf("replaced user's hash = %q", u.Hash)
	}
	if _, _, ok := get(s.Snapshot(ctx, nil))(t).Credentials.DigestSecret("existing", "R", store.DigestMD5); ok {
		t.Error("a replaced password kept the digest secret of the old one")
	}
	events := get(s.AuditEvents(ctx, store.AuditFilter{Action: "import.users"}))(t)
	if len(events) != 2 || events[1].Detail != "batch of 6: 2 imported, 0 replaced, 2 skipped, 2 failed" {
		t.Errorf("import audit events = %+v", events)
	}
}

func testImportDigest(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	get(s.AddUser(ctx, store.User{Name: "alice", Hash: BcryptHash}))(t)
	ha := strings.Repeat("0123456789abcdef", 2)
	out := get(s.ImportDigestSecrets(ctx, []store.DigestSecret{
		{User: "alice", Realm: "R1", HA1: ha},
		{User: "Bob", Realm: "R1", HA1: ha},
		{User: "alice", Realm: "R2", HA1: ha},
		{User: "alice", Realm: "R1", HA1: strings.Repeat("f", 32)},
		{User: "x", Realm: "R1", HA1: "not hex"},
		{User: "x y", Realm: "R1", HA1: ha},
	}, false))(t)
	want := []store.ImportResult{store.Imported, store.Imported, store.Imported, store.Skipped, store.Failed, store.Failed}
	for i, o := range out {
		if o.Result != want[i] {
			t.Errorf("item %d: %v (%v), want %v", i, o.Result, o.Err, want[i])
		}
	}
	bob := get(s.User(ctx, "bob"))(t)
	if bob.Hash != "" || bob.DisplayName != "Bob" {
		t.Errorf("user created by a digest import = %+v, want no hash, display name Bob", bob)
	}
	if _, err := s.User(ctx, "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a failed line created user x: %v", err)
	}
	c := get(s.Snapshot(ctx, nil))(t).Credentials
	if name, h, ok := c.DigestSecret("bob", "R1", store.DigestMD5); !ok || name != "Bob" || h != ha {
		t.Errorf("DigestSecret(bob, R1) = %q %q %v", name, h, ok)
	}
	if h, ok := c.Hash("bob"); ok || h != "" {
		t.Errorf("bob's password hash = %q %v, want none", h, ok)
	}
	out = get(s.ImportDigestSecrets(ctx, []store.DigestSecret{{User: "alice", Realm: "R1", HA1: strings.Repeat("e", 32)}}, true))(t)
	if out[0].Result != store.Replaced {
		t.Errorf("replace: %v", out[0])
	}
	if _, h, _ := get(s.Snapshot(ctx, nil))(t).Credentials.DigestSecret("alice", "R1", store.DigestMD5); h != strings.Repeat("e", 32) {
		t.Errorf("replaced HA1 = %q", h)
	}
	if u := get(s.User(ctx, "alice"))(t); u.Hash != BcryptHash {
		t.Errorf("a digest import changed alice's password hash to %q", u.Hash)
	}
	// SHA-256 secrets sit beside MD5 ones; a realm offers the algorithms
	// every user of it has.
	sha := strings.Repeat("ab", 32)
	out = get(s.ImportDigestSecrets(ctx, []store.DigestSecret{
		{User: "bob", Username: "Bob", Realm: "R1", HA1: sha},
		{User: "bob", Realm: "R3", HA1: sha},
		{User: "bob", Realm: "R3", Algorithm: store.DigestMD5, HA1: sha},
	}, false))(t)
	if out[0].Result != store.Imported || out[1].Result != store.Imported || out[2].Result != store.Failed {
		t.Errorf("SHA-256 imports: %v", out)
	}
	c = get(s.Snapshot(ctx, nil))(t).Credentials
	if _, h, ok := c.DigestSecret("bob", "R1", store.DigestSHA256); !ok || h != sha {
		t.Errorf("SHA-256 secret of bob = %q %v", h, ok)
	}
	for realm, want := range map[string][]string{"R1": {store.DigestMD5}, "R2": {store.DigestMD5}, "R3": {store.DigestSHA256}, "none": nil} {
		if got := c.DigestAlgorithms(realm); !slices.Equal(got, want) {
			t.Errorf("DigestAlgorithms(%s) = %v, want %v", realm, got, want)
		}
	}
	// The userhash is what a client computes: H(username ":" realm).
	for _, tt := range []struct{ hash, realm, alg, want string }{
		{md5hex("Bob:R1"), "R1", store.DigestMD5, "Bob"},
		{strings.ToUpper(md5hex("alice:R2")), "R2", store.DigestMD5, "alice"},
		{sha256hex("bob:R3"), "R3", store.DigestSHA256, "bob"},
		{md5hex("bob:R1"), "R1", store.DigestMD5, ""},
	} {
		if got, ok := c.DigestUserByHash(tt.hash, tt.realm, tt.alg); got != tt.want || ok != (tt.want != "") {
			t.Errorf("DigestUserByHash(%s, %s, %s) = %q, %v, want %q", tt.hash, tt.realm, tt.alg, got, ok, tt.want)
		}
	}
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func testImportMembers(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	for _, n := range []string{"alice", "bob"} {
		get(s.AddUser(ctx, store.User{Name: n, Hash: SHA1Hash}))(t)
	}
	get(s.AddGroup(ctx, "staff"))(t)
	out := get(s.ImportMembers(ctx, []store.Membership{
		{Group: "staff", User: "alice"},
		{Group: "Admins", User: "BOB"},
		{Group: "admins", User: "bob"},
		{Group: "admins", User: "nobody"},
		{Group: "bad group", User: "alice"},
	}))(t)
	want := []store.ImportResult{store.Imported, store.Imported, store.Skipped, store.Failed, store.Failed}
	for i, o := range out {
		if o.Result != want[i] {
			t.Errorf("item %d: %v (%v), want %v", i, o.Result, o.Err, want[i])
		}
	}
	wantErr(t, "unknown member", out[3].Err, store.ErrNotFound)
	if g := get(s.Group(ctx, "admins"))(t); !slices.Equal(g.Members, []string{"bob"}) {
		t.Errorf("admins = %v", g.Members)
	}
	if g := get(s.Group(ctx, "staff"))(t); !slices.Equal(g.Members, []string{"alice"}) {
		t.Errorf("staff = %v", g.Members)
	}
}

func testConcurrentWrites(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	v0 := get(s.Version(ctx))(t)
	const workers, each = 6, 15
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := s.AddUser(ctx, store.User{Name: fmt.Sprintf("w%d-u%d", w, i), Hash: SHA1Hash}); err != nil {
					errs <- err
				}
				if _, err := s.Snapshot(ctx, nil); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if v := get(s.Version(ctx))(t); v-v0 != workers*each {
		t.Errorf("version moved by %d over %d writes", v-v0, workers*each)
	}
	if n := get(s.Snapshot(ctx, nil))(t).Credentials.Len(); n != workers*each {
		t.Errorf("%d users after concurrent writes, want %d", n, workers*each)
	}
}

// testDummyFollowsUsers: a store that starts empty gets a dummy hash of its
// users' format and cost as they are added, incrementally too.
func testDummyFollowsUsers(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	prev := get(s.Snapshot(ctx, nil))(t)
	if d := prev.Credentials.Dummy(); !strings.HasPrefix(d, "$2y$10$") {
		t.Errorf("empty store's dummy = %q, want bcrypt cost 10", d)
	}
	get(s.AddUser(ctx, store.User{Name: "alice", Hash: APR1Hash}))(t)
	next := get(s.Snapshot(ctx, prev))(t)
	if d := next.Credentials.Dummy(); !strings.HasPrefix(d, "$apr1$") {
		t.Errorf("dummy after adding an apr1 user = %q, want apr1", d)
	}
}
