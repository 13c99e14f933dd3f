package guard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/htgate/htgate"
	"github.com/htgate/htgate/internal/state"
	"github.com/htgate/htgate/internal/state/memory"
	"github.com/htgate/htgate/internal/state/statetest"
)

// env is a guard on a memory store and a fake clock, recording events.
type env struct {
	g     *Guard
	clock *statetest.Clock
	st    *memory.Store

	mu     sync.Mutex
	events []Event
}

func newEnv(t testing.TB, p Policy) *env {
	t.Helper()
	e := &env{clock: statetest.NewClock(statetest.Start())}
	e.st = memory.New(memory.Options{MaxKeys: 4096, Now: e.clock.Now})
	g, err := New(p, e.st, Options{Now: e.clock.Now, OnEvent: e.record})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.g = g
	return e
}

func (e *env) record(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, ev)
}

// takeEvents returns the events of kind (all if "") recorded so far and
// forgets all.
func (e *env) takeEvents(kind EventKind) []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Event
	for _, ev := range e.events {
		if kind == "" || ev.Kind == kind {
			out = append(out, ev)
		}
	}
	e.events = nil
	return out
}

// summary renders a verdict for comparison in tests.
func summary(v Verdict) string {
	if v.Allowed {
		if v.Trusted {
			return "allowed (trusted)"
		}
		return "allowed"
	}
	return fmt.Sprintf("%d %s %s %ds level %d", v.Status, v.Reason, v.Key, v.RetryAfterSeconds(), v.Level)
}

// step is one action of a policy scenario.
type step struct {
	do     string // "fail", "ok" (a success), "check", "wait"
	client string
	user   string
	n      int           // fail: how many times (default 1)
	d      time.Duration // wait
	want   string        // check: summary of the verdict
}

func fail(client, user string, n int) step { return step{do: "fail", client: client, user: user, n: n} }
func ok(client, user string) step          { return step{do: "ok", client: client, user: user} }
func wait(d time.Duration) step            { return step{do: "wait", d: d} }
func check(client, user, want string) step {
	return step{do: "check", client: client, user: user, want: want}
}

const (
	a1 = "192.0.2.1"
	a2 = "192.0.2.2"
	a3 = "198.51.100.7"
)

func TestPolicy(t *testing.T) {
	long := strings.Repeat("x", 10_000)
	tests := []struct {
		name   string
		policy Policy
		steps  []step
	}{
		{
			name: "pair limit bans the pair only",
			steps: []step{
				fail(a1, "alice", 4),
				check(a1, "alice", "allowed"),
				fail(a1, "alice", 1),
				check(a1, "alice", "429 too_many_requests client+user 300s level 1"),
				check(a1, "bob", "allowed"),
				check(a2, "alice", "allowed"),
				check(a1, "", "allowed"),
				wait(time.Minute),
				check(a1, "alice", "429 too_many_requests client+user 240s level 1"),
			},
		},
		{
			name: "a ban expires by itself",
			steps: []step{
				fail(a1, "alice", 5),
				wait(5*time.Minute - time.Second),
				check(a1, "alice", "429 too_many_requests client+user 1s level 1"),
				wait(time.Second),
				check(a1, "alice", "allowed"),
			},
		},
		{
			name:   "repeat offences double the ban up to the maximum",
			policy: Policy{MaxBanTime: 30 * time.Minute},
			steps: []step{
				fail(a1, "alice", 5),
				check(a1, "alice", "429 too_many_requests client+user 300s level 1"),
				wait(5 * time.Minute),
				// The window (10m) is still open: one more failure bans again.
				fail(a1, "alice", 1),
				check(a1, "alice", "429 too_many_requests client+user 600s level 2"),
				wait(10 * time.Minute),
				// A new window needs the full count again.
				fail(a1, "alice", 4),
				check(a1, "alice", "allowed"),
				fail(a1, "alice", 1),
				check(a1, "alice", "429 too_many_requests client+user 1200s level 3"),
				wait(20 * time.Minute),
				fail(a1, "alice", 5),
				check(a1, "alice", "429 too_many_requests client+user 1800s level 4"),
				wait(30 * time.Minute),
				fail(a1, "alice", 5),
				check(a1, "alice", "429 too_many_requests client+user 1800s level 5"),
			},
		},
		{
			name: "the offence level is forgotten after the offence memory",
			steps: []step{
				fail(a1, "alice", 5),
				wait(5*time.Minute + 24*time.Hour),
				fail(a1, "alice", 5),
				check(a1, "alice", "429 too_many_requests client+user 300s level 1"),
			},
		},
		{
			name: "client limit across user names",
			steps: []step{
				fail(a1, "u1", 4), fail(a1, "u2", 4), fail(a1, "u3", 4), fail(a1, "u4", 4), fail(a1, "u5", 3),
				check(a1, "new", "allowed"),
				fail(a1, "u6", 1),
				check(a1, "new", "429 too_many_requests client 300s level 1"),
				check(a1, "", "429 too_many_requests client 300s level 1"),
				check(a2, "u1", "allowed"),
			},
		},
		{
			name: "user limit across addresses",
			steps: []step{
				fail("203.0.113.1", "alice", 3), fail("203.0.113.2", "alice", 3), fail("203.0.113.3", "alice", 3),
				check(a1, "alice", "allowed"),
				fail("203.0.113.4", "alice", 1),
				check(a1, "alice", "429 too_many_requests user 300s level 1"),
				check(a1, "bob", "allowed"),
				check(a1, "", "allowed"),
			},
		},
		{
			name: "a user ban does not apply to a recently trusted address",
			steps: []step{
				ok(a3, "alice"),
				wait(time.Hour),
				fail(a1, "alice", 4), fail(a2, "alice", 4), fail("203.0.113.9", "alice", 2),
				check(a3, "alice", "allowed (trusted)"),
				check(a1, "alice", "429 too_many_requests user 300s level 1"),
				check("203.0.113.10", "alice", "429 too_many_requests user 300s level 1"),
			},
		},
		{
			name: "trust ends after the trusted success window",
			steps: []step{
				ok(a3, "alice"),
				wait(24 * time.Hour),
				fail(a1, "alice", 4), fail(a2, "alice", 4), fail("203.0.113.9", "alice", 2),
				check(a3, "alice", "429 too_many_requests user 300s level 1"),
			},
		},
		{
			name: "trust does not lift a ban of the pair or the address",
			steps: []step{
				ok(a3, "alice"),
				fail(a3, "alice", 5),
				check(a3, "alice", "429 too_many_requests client+user 300s level 1"),
				wait(time.Minute),
				fail(a3, "bob", 4), fail(a3, "carol", 4), fail(a3, "dave", 4), fail(a3, "erin", 3),
				check(a3, "alice", "429 too_many_requests client 300s level 1"),
			},
		},
		{
			name:   "trust can be turned off",
			policy: Policy{TrustedSuccessWindow: -1},
			steps: []step{
				ok(a3, "alice"),
				fail(a1, "alice", 4), fail(a2, "alice", 4), fail("203.0.113.9", "alice", 2),
				check(a3, "alice", "429 too_many_requests user 300s level 1"),
			},
		},
		{
			name:   "allow-listed clients are never refused and not counted",
			policy: Policy{AllowList: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}},
			steps: []step{
				fail("10.1.2.3", "alice", 50),
				check("10.1.2.3", "alice", "allowed"),
				check(a1, "alice", "allowed"), // the user's count did not grow
				fail(a1, "alice", 4), fail(a2, "alice", 4), fail("203.0.113.9", "alice", 2),
				check(a1, "alice", "429 too_many_requests user 300s level 1"),
				check("10.1.2.3", "alice", "allowed"), // a banned user from an allow-listed address
			},
		},
		{
			name: "a success resets the pair's count only",
			steps: []step{
				fail(a1, "alice", 4),
				ok(a1, "alice"),
				fail(a1, "alice", 4),
				check(a1, "alice", "allowed"),
				fail(a1, "alice", 1),
				check(a1, "alice", "429 too_many_requests client+user 300s level 1"),
			},
		},
		{
			name: "a success does not reset the user's count",
			steps: []step{
				fail(a1, "alice", 4), fail(a2, "alice", 4),
				ok(a3, "alice"),
				fail("203.0.113.9", "alice", 2),
				check("203.0.113.10", "alice", "429 too_many_requests user 300s level 1"),
			},
		},
		{
			name: "malformed credentials count against the address only",
			steps: []step{
				fail(a1, "", 19),
				check(a1, "", "allowed"),
				fail(a1, "", 1),
				check(a1, "", "429 too_many_requests client 300s level 1"),
				check(a1, "alice", "429 too_many_requests client 300s level 1"),
			},
		},
		{
			name: "IPv6 clients are counted by their /64",
			steps: []step{
				fail("2001:db8::1", "u1", 4), fail("2001:db8::2", "u2", 4), fail("2001:db8::3", "u3", 4),
				fail("2001:db8::4", "u4", 4), fail("2001:db8::5", "u5", 4),
				check("2001:db8::ffff:1", "x", "429 too_many_requests client 300s level 1"),
				check("2001:db8:0:1::1", "x", "allowed"),
			},
		},
		{
			name:   "IPv6 per address when the prefix length is 128",
			policy: Policy{IPv6PrefixLen: 128},
			steps: []step{
				fail("2001:db8::1", "alice", 3), fail("2001:db8::2", "alice", 3),
				check("2001:db8::1", "alice", "allowed"),
			},
		},
		{
			name: "an IPv4-mapped address is the IPv4 address",
			steps: []step{
				fail("::ffff:192.0.2.1", "alice", 5),
				check(a1, "alice", "429 too_many_requests client+user 300s level 1"),
			},
		},
		{
			name:   "answer 401 instead of 429",
			policy: Policy{AnswerStatus: http.StatusUnauthorized},
			steps: []step{
				fail(a1, "alice", 5),
				check(a1, "alice", "401 too_many_requests client+user 300s level 1"),
			},
		},
		{
			name:   "a negative limit is not counted",
			policy: Policy{MaxFailuresPerClient: -1, MaxFailuresPerClientUser: -1},
			steps: []step{
				fail(a1, "u1", 9), fail(a1, "u2", 9), fail(a1, "u3", 9),
				check(a1, "u4", "allowed"),
				check(a1, "u1", "allowed"),
			},
		},
		{
			name: "long user names are hashed and still told apart",
			steps: []step{
				fail(a1, long+"a", 5),
				check(a1, long+"a", "429 too_many_requests client+user 300s level 1"),
				check(a1, long+"b", "allowed"),
			},
		},
		{
			name: "the longest ban decides",
			steps: []step{
				fail(a1, "alice", 5), // pair: 5m
				wait(time.Minute),
				fail(a1, "bob", 15), // client: 20 failures now, 5m from here
				check(a1, "alice", "429 too_many_requests client 300s level 1"),
			},
		},
		{
			name: "a request without credentials is never counted",
			steps: []step{
				check(a1, "", "allowed"),
				check(a1, "", "allowed"),
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.policy)
			ctx := context.Background()
			for i, s := range tc.steps {
				var addr netip.Addr
				if s.client != "" {
					addr = netip.MustParseAddr(s.client)
				}
				switch s.do {
				case "fail":
					for range max(s.n, 1) {
						if err := e.g.Failure(ctx, addr, s.user); err != nil {
							t.Fatalf("step %d: Failure(%s, %.20q): %v", i, s.client, s.user, err)
						}
					}
				case "ok":
					if err := e.g.Success(ctx, addr, s.user); err != nil {
						t.Fatalf("step %d: Success(%s, %q): %v", i, s.client, s.user, err)
					}
				case "wait":
					e.clock.Advance(s.d)
				case "check":
					v, err := e.g.Check(ctx, addr, s.user)
					if err != nil {
						t.Fatalf("step %d: Check(%s, %.20q): %v", i, s.client, s.user, err)
					}
					if got := summary(v); got != s.want {
						t.Errorf("step %d: Check(%q, %.20q) = %q, want %q (%s)", i, s.client, s.user, got, s.want, v.Detail)
					}
				default:
					t.Fatalf("step %d: unknown action %q", i, s.do)
				}
			}
		})
	}
}

// TestNoCredentialsTouchNoState checks that requests without credentials
// leave the state store as it was.
func TestNoCredentialsTouchNoState(t *testing.T) {
	e := newEnv(t, Policy{})
	for i := range 100 {
		addr := netip.AddrFrom4([4]byte{192, 0, 2, byte(i)})
		if v, err := e.g.Check(context.Background(), addr, ""); err != nil || !v.Allowed {
			t.Fatalf("Check(%s, \"\") = %v, %v, want allowed", addr, summary(v), err)
		}
	}
	if n := e.st.Len(); n != 0 {
		t.Errorf("state holds %d entries after requests without credentials, want 0", n)
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want int
	}{
		{0, 1}, {time.Millisecond, 1}, {time.Second, 1}, {time.Second + 1, 2}, {5 * time.Minute, 300},
	} {
		if got := (Verdict{RetryAfter: tc.d}).RetryAfterSeconds(); got != tc.want {
			t.Errorf("RetryAfterSeconds(%v) = %d, want %d", tc.d, got, tc.want)
		}
	}
}

func TestVerdictDetail(t *testing.T) {
	e := newEnv(t, Policy{})
	ctx := context.Background()
	addr := netip.MustParseAddr(a1)
	for range 5 {
		if err := e.g.Failure(ctx, addr, "alice"); err != nil {
			t.Fatal(err)
		}
	}
	v, err := e.g.Check(ctx, addr, "alice")
	if err != nil {
		t.Fatal(err)
	}
	want := Verdict{
		Status: 429, Reason: htgate.ReasonTooManyRequests, RetryAfter: 5 * time.Minute,
		Key: KeyClientUser, Until: statetest.Start().Add(5 * time.Minute), Level: 1,
		Detail: "user alice at 192.0.2.1 is locked out until 2026-01-02T03:09:05Z (ban level 1)",
	}
	if diff := cmp.Diff(want, v); diff != "" {
		t.Errorf("Check verdict (-want +got):\n%s", diff)
	}
}

// failingStore fails every operation.
type failingStore struct{ state.Store }

var errDown = errors.New("store down")

func (failingStore) Incr(context.Context, string, time.Duration) (int64, error) { return 0, errDown }
func (failingStore) Get(context.Context, string) (int64, error)                 { return 0, errDown }
func (failingStore) Delete(context.Context, ...string) error                    { return errDown }
func (failingStore) Ban(context.Context, string, state.Schedule) (state.Ban, bool, error) {
	return state.Ban{}, false, errDown
}
func (failingStore) Active(context.Context, ...string) ([]state.Ban, error) { return nil, errDown }
func (failingStore) Unban(context.Context, ...string) error                 { return errDown }
func (failingStore) List(context.Context, int) ([]state.Ban, error)         { return nil, errDown }
func (failingStore) Mark(context.Context, string, time.Duration) error      { return errDown }
func (failingStore) Marked(context.Context, string) (bool, error)           { return false, errDown }
func (failingStore) Unmark(context.Context, ...string) error                { return errDown }

func TestFailClosed(t *testing.T) {
	g, err := New(Policy{}, failingStore{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	addr := netip.MustParseAddr(a1)
	for _, user := range []string{"", "alice"} {
		v, err := g.Check(ctx, addr, user)
		if !errors.Is(err, errDown) {
			t.Errorf("Check(%q) error = %v, want one wrapping the store's", user, err)
		}
		if got, want := summary(v), "503 server_error  5s level 0"; got != want {
			t.Errorf("Check(%q) with a failing store = %q, want %q", user, got, want)
		}
		v, att, err := g.Enter(ctx, addr, user)
		if v.Allowed || att != nil || !errors.Is(err, errDown) {
			t.Errorf("Enter(%q) with a failing store = %q, %v, %v, want refused with the store's error", user, summary(v), att, err)
		}
	}
	if err := g.Failure(ctx, addr, "alice"); !errors.Is(err, errDown) {
		t.Errorf("Failure error = %v, want one wrapping the store's", err)
	}
	if err := g.Success(ctx, addr, "alice"); !errors.Is(err, errDown) {
		t.Errorf("Success error = %v, want one wrapping the store's", err)
	}
	if _, err := g.Lockouts(ctx, 0); !errors.Is(err, errDown) {
		t.Errorf("Lockouts error = %v, want one wrapping the store's", err)
	}
	if _, err := g.Clear(ctx, addr, ""); !errors.Is(err, errDown) {
		t.Errorf("Clear error = %v, want one wrapping the store's", err)
	}
}

// trustFailStore fails only Marked, to show a user ban is not lifted when
// trust cannot be checked.
type trustFailStore struct{ *memory.Store }

func (trustFailStore) Marked(context.Context, string) (bool, error) { return false, errDown }

func TestFailClosedOnTrust(t *testing.T) {
	clock := statetest.NewClock(statetest.Start())
	st := trustFailStore{memory.New(memory.Options{MaxKeys: 1024, Now: clock.Now})}
	g, err := New(Policy{MaxFailuresPerUser: 1}, st, Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := g.Failure(ctx, netip.MustParseAddr(a1), "alice"); err != nil {
		t.Fatal(err)
	}
	v, err := g.Check(ctx, netip.MustParseAddr(a2), "alice")
	if v.Allowed || !errors.Is(err, errDown) {
		t.Errorf("Check with a user ban and a failing trust lookup = %q, %v, want refused with the store's error", summary(v), err)
	}
}

func TestEvents(t *testing.T) {
	e := newEnv(t, Policy{})
	ctx := context.Background()
	addr := netip.MustParseAddr("2001:db8::7")
	for range 5 {
		if err := e.g.Failure(ctx, addr, "alice"); err != nil {
			t.Fatal(err)
		}
	}
	until := statetest.Start().Add(5 * time.Minute)
	failures := e.takeEvents("")
	if len(failures) != 6 {
		t.Fatalf("got %d events after 5 failures, want 5 failures and 1 lockout: %v", len(failures), failures)
	}
	if diff := cmp.Diff(Event{Kind: EventFailure, Time: statetest.Start(), Client: "2001:db8::7", User: "alice"}, failures[0]); diff != "" {
		t.Errorf("failure event (-want +got):\n%s", diff)
	}
	want := Event{Kind: EventLockout, Time: statetest.Start(), Key: KeyClientUser, Client: "2001:db8::/64", User: "alice", Until: until, Level: 1}
	if diff := cmp.Diff(want, failures[5]); diff != "" {
		t.Errorf("lockout event (-want +got):\n%s", diff)
	}
	if n := e.g.ActiveLockouts(); n != 1 {
		t.Errorf("ActiveLockouts() = %d, want 1", n)
	}

	// Nothing is released before the ban ends.
	e.clock.Advance(5*time.Minute - 1)
	if n := e.g.Sweep(ctx); n != 0 {
		t.Errorf("Sweep before the ban ended = %d, want 0", n)
	}
	e.clock.Advance(1)
	if n := e.g.ActiveLockouts(); n != 0 {
		t.Errorf("ActiveLockouts() after the ban ended = %d, want 0", n)
	}
	if n := e.g.Sweep(ctx); n != 1 {
		t.Errorf("Sweep after the ban ended = %d, want 1", n)
	}
	want.Kind, want.Time, want.Detail = EventRelease, until, "expired"
	if diff := cmp.Diff([]Event{want}, e.takeEvents("")); diff != "" {
		t.Errorf("release events (-want +got):\n%s", diff)
	}
	if n := e.g.Sweep(ctx); n != 0 {
		t.Errorf("second Sweep = %d, want 0 (each release reported once)", n)
	}

	// A ban that ended and was renewed before a Sweep is released first.
	for range 5 {
		if err := e.g.Failure(ctx, addr, "bob"); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Advance(5 * time.Minute)
	if err := e.g.Failure(ctx, addr, "bob"); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, ev := range e.takeEvents("") {
		if ev.Kind != EventFailure {
			kinds = append(kinds, fmt.Sprintf("%s %d", ev.Kind, ev.Level))
		}
	}
	if diff := cmp.Diff([]string{"lockout 1", "release 1", "lockout 2"}, kinds); diff != "" {
		t.Errorf("events of a renewed ban (-want +got):\n%s", diff)
	}

	// Allow-listed failures are reported, marked as such.
	e2 := newEnv(t, Policy{AllowList: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}})
	if err := e2.g.Failure(ctx, netip.MustParseAddr(a1), "alice"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Event{{Kind: EventFailure, Time: statetest.Start(), Client: a1, User: "alice", Detail: "allow-listed"}}, e2.takeEvents("")); diff != "" {
		t.Errorf("allow-listed failure events (-want +got):\n%s", diff)
	}
}

func TestLockoutsAndClear(t *testing.T) {
	e := newEnv(t, Policy{})
	ctx := context.Background()
	fails := func(client, user string, n int) {
		t.Helper()
		for range n {
			if err := e.g.Failure(ctx, netip.MustParseAddr(client), user); err != nil {
				t.Fatal(err)
			}
		}
	}
	fails(a1, "alice", 5) // pair a1/alice
	e.clock.Advance(time.Second)
	fails(a2, "bob", 5) // pair a2/bob
	e.clock.Advance(time.Second)
	for i := range 15 {
		fails(a2, fmt.Sprintf("x%d", i), 1) // client a2 (20 failures)
	}
	e.clock.Advance(time.Second)
	fails(a3, "carol", 4)
	fails("203.0.113.1", "carol", 4)
	fails("203.0.113.2", "carol", 2) // user carol (10 failures)
	e.takeEvents("")

	list := func() []string {
		t.Helper()
		los, err := e.g.Lockouts(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, lo := range los {
			out = append(out, fmt.Sprintf("%s %s %s", lo.Key, lo.Client, lo.User))
		}
		return out
	}
	want := []string{"client+user 192.0.2.1 alice", "client+user 192.0.2.2 bob", "client 192.0.2.2 ", "user  carol"}
	if diff := cmp.Diff(want, list()); diff != "" {
		t.Fatalf("Lockouts (-want +got):\n%s", diff)
	}
	los, err := e.g.Lockouts(ctx, 2)
	if err != nil || len(los) != 2 {
		t.Errorf("Lockouts(2) = %d lockouts, %v, want 2", len(los), err)
	}

	// Clearing an address clears its ban and its pairs.
	cleared, err := e.g.Clear(ctx, netip.MustParseAddr(a2), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(cleared) != 2 {
		t.Errorf("Clear(%s) cleared %d lockouts, want 2", a2, len(cleared))
	}
	if got := e.takeEvents(EventRelease); len(got) != 2 || got[0].Detail != "cleared" {
		t.Errorf("Clear(%s) reported %v, want 2 release events", a2, got)
	}
	if diff := cmp.Diff([]string{"client+user 192.0.2.1 alice", "user  carol"}, list()); diff != "" {
		t.Errorf("Lockouts after clearing %s (-want +got):\n%s", a2, diff)
	}
	// The cleared address's count starts again.
	v, err := e.g.Check(ctx, netip.MustParseAddr(a2), "bob")
	if err != nil || !v.Allowed {
		t.Errorf("Check(%s, bob) after Clear = %q, %v, want allowed", a2, summary(v), err)
	}
	fails(a2, "y", 4)
	if v, _ := e.g.Check(ctx, netip.MustParseAddr(a2), "z"); !v.Allowed {
		t.Errorf("Check(%s, z) after Clear and 4 failures = %q, want allowed (the count was reset)", a2, summary(v))
	}

	// Clearing a user.
	if cleared, err := e.g.Clear(ctx, netip.Addr{}, "carol"); err != nil || len(cleared) != 1 {
		t.Errorf("Clear(carol) = %v, %v, want 1 lockout", cleared, err)
	}
	// A pair.
	if cleared, err := e.g.Clear(ctx, netip.MustParseAddr(a1), "alice"); err != nil || len(cleared) != 1 {
		t.Errorf("Clear(%s, alice) = %v, %v, want 1 lockout", a1, cleared, err)
	}
	if got := list(); got != nil {
		t.Errorf("Lockouts after clearing all = %q, want none", got)
	}
	if n := e.g.ActiveLockouts(); n != 0 {
		t.Errorf("ActiveLockouts() after clearing all = %d, want 0", n)
	}
	if n := e.g.Sweep(ctx); n != 0 {
		t.Errorf("Sweep after clearing = %d, want 0 (cleared bans are not released twice)", n)
	}

	// Clear everything.
	fails(a3, "dave", 5)
	if cleared, err := e.g.Clear(ctx, netip.Addr{}, ""); err != nil || len(cleared) != 1 {
		t.Errorf("Clear(all) = %v, %v, want 1 lockout", cleared, err)
	}
}

// TestConcurrentFailures checks that many concurrent failures create each
// ban exactly once.
func TestConcurrentFailures(t *testing.T) {
	e := newEnv(t, Policy{})
	const n = 64
	var wg sync.WaitGroup
	addr := netip.MustParseAddr(a1)
	for range n {
		wg.Go(func() {
			if err := e.g.Failure(context.Background(), addr, "alice"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	counts := map[KeyKind]int{}
	for _, ev := range e.takeEvents(EventLockout) {
		counts[ev.Key]++
		if ev.Level != 1 {
			t.Errorf("lockout %s at level %d, want 1", ev.Key, ev.Level)
		}
	}
	want := map[KeyKind]int{KeyClientUser: 1, KeyClient: 1, KeyUser: 1}
	if diff := cmp.Diff(want, counts); diff != "" {
		t.Errorf("lockout events of %d concurrent failures (-want +got):\n%s", n, diff)
	}
}

// TestEnterBoundsHashes checks that concurrent guessing computes no more
// hashes than the limit, and that concurrent legitimate logins are never
// refused.
func TestEnterBoundsHashes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		policy  Policy
		users   int // distinct user names the attacker tries
		clients int // distinct addresses
		want    int // hashes computed
	}{
		{"one pair", Policy{}, 1, 1, DefaultMaxFailuresPerClientUser},
		{"one address, many users", Policy{}, 100, 1, DefaultMaxFailuresPerClient},
		{"one user, many addresses", Policy{MaxFailuresPerClientUser: 100, MaxFailuresPerClient: 100}, 1, 64, DefaultMaxFailuresPerUser},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.policy)
			const goroutines, each = 32, 8
			var (
				mu     sync.Mutex
				hashes int
				wg     sync.WaitGroup
			)
			for gi := range goroutines {
				wg.Go(func() {
					ctx := context.Background()
					for i := range each {
						n := gi*each + i
						addr := netip.AddrFrom4([4]byte{203, 0, 113, byte(n % tc.clients)})
						user := fmt.Sprintf("user%d", n%tc.users)
						v, err := e.g.Check(ctx, addr, user)
						if err != nil {
							t.Error(err)
							return
						}
						if !v.Allowed {
							continue
						}
						v, att, err := e.g.Enter(ctx, addr, user)
						if err != nil {
							t.Error(err)
							return
						}
						if !v.Allowed {
							continue
						}
						mu.Lock()
						hashes++ // the password hash would be computed here
						mu.Unlock()
						if err := att.Failure(ctx); err != nil {
							t.Error(err)
						}
					}
				})
			}
			wg.Wait()
			if hashes != tc.want {
				t.Errorf("%d goroutines guessing computed %d hashes, want %d (the limit)", goroutines, hashes, tc.want)
			}
			if n := len(e.g.inflight.m); n != 0 {
				t.Errorf("%d keys still hold places in flight, want 0", n)
			}
		})
	}

	t.Run("legitimate logins", func(t *testing.T) {
		e := newEnv(t, Policy{})
		addr := netip.MustParseAddr(a1)
		// Four failures: one more in flight would reach the limit.
		for range 4 {
			if err := e.g.Failure(context.Background(), addr, "alice"); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		for range 32 {
			wg.Go(func() {
				ctx := context.Background()
				v, att, err := e.g.Enter(ctx, addr, "alice")
				if err != nil || !v.Allowed {
					t.Errorf("Enter for a legitimate login = %q, %v, want allowed", summary(v), err)
					return
				}
				if err := att.Success(ctx); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	})
}

func TestEnterWaits(t *testing.T) {
	ctx := context.Background()
	addr := netip.MustParseAddr(a1)
	setup := func(t *testing.T, maxWait time.Duration) (*env, *Attempt) {
		e := newEnv(t, Policy{})
		g, err := New(Policy{}, e.st, Options{Now: e.clock.Now, MaxWait: maxWait})
		if err != nil {
			t.Fatal(err)
		}
		e.g = g
		for range 4 {
			if err := g.Failure(ctx, addr, "alice"); err != nil {
				t.Fatal(err)
			}
		}
		v, att, err := g.Enter(ctx, addr, "alice")
		if err != nil || !v.Allowed {
			t.Fatalf("first Enter = %q, %v, want allowed", summary(v), err)
		}
		return e, att
	}

	t.Run("gives up after MaxWait", func(t *testing.T) {
		e, att := setup(t, time.Millisecond)
		defer att.Release()
		v, att2, err := e.g.Enter(ctx, addr, "alice")
		if err != nil || att2 != nil {
			t.Fatalf("second Enter = %v, %v, want a refusal", att2, err)
		}
		if got, want := summary(v), "429 too_many_requests client+user 1s level 0"; got != want {
			t.Errorf("second Enter = %q, want %q", got, want)
		}
	})

	t.Run("ends with the context", func(t *testing.T) {
		e, att := setup(t, time.Hour)
		defer att.Release()
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		v, _, err := e.g.Enter(cctx, addr, "alice")
		if !errors.Is(err, context.Canceled) || v.Allowed {
			t.Errorf("Enter with a cancelled context = %q, %v, want refused with context.Canceled", summary(v), err)
		}
	})

	t.Run("wakes when the attempt in flight ends", func(t *testing.T) {
		e, att := setup(t, time.Hour)
		done := make(chan Verdict)
		go func() {
			v, att2, err := e.g.Enter(ctx, addr, "alice")
			if err != nil {
				t.Error(err)
			}
			att2.Release()
			done <- v
		}()
		// The waiter either is waiting or has not yet arrived; in both
		// cases the failure bans the pair and it is refused.
		if err := att.Failure(ctx); err != nil {
			t.Fatal(err)
		}
		if got, want := summary(<-done), "429 too_many_requests client+user 300s level 1"; got != want {
			t.Errorf("waiting Enter = %q, want %q", got, want)
		}
	})

	t.Run("a released attempt frees its place once", func(t *testing.T) {
		e, att := setup(t, time.Hour)
		att.Release()
		att.Release()
		if err := att.Failure(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(e.g.inflight.m); n != 0 {
			t.Errorf("%d keys hold places after Release, want 0", n)
		}
		if v, _ := e.g.Check(ctx, addr, "alice"); !v.Allowed {
			t.Errorf("Failure after Release was counted: %q", summary(v))
		}
		var nilAttempt *Attempt
		nilAttempt.Release()
		if err := nilAttempt.Failure(ctx); err != nil {
			t.Error(err)
		}
	})

	t.Run("allow-listed clients hold nothing", func(t *testing.T) {
		e := newEnv(t, Policy{AllowList: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}})
		v, att, err := e.g.Enter(ctx, addr, "alice")
		if err != nil || !v.Allowed || att == nil {
			t.Fatalf("Enter from an allow-listed address = %q, %v, %v, want allowed", summary(v), att, err)
		}
		if n := len(e.g.inflight.m); n != 0 {
			t.Errorf("%d keys hold places for an allow-listed client, want 0", n)
		}
		att.Release()
	})
}

func TestNewRejectsBadPolicy(t *testing.T) {
	st := memory.New(memory.Options{MaxKeys: 16})
	for _, tc := range []struct {
		name string
		p    Policy
		want string
	}{
		{"negative find time", Policy{FindTime: -1}, "find time -1ns is negative"},
		{"negative ban time", Policy{BanTime: -1}, "ban time -1ns is negative"},
		{"max below ban", Policy{BanTime: time.Hour, MaxBanTime: time.Minute}, "max ban time 1m0s is shorter than ban time 1h0m0s"},
		{"IPv6 prefix", Policy{IPv6PrefixLen: 129}, "IPv6 prefix length 129 is not in 1..128"},
		{"status", Policy{AnswerStatus: 403}, "answer status 403 is neither 429 nor 401"},
		{"allow list", Policy{AllowList: []netip.Prefix{{}}}, "allow list holds an invalid prefix"},
	} {
		_, err := New(tc.p, st, Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%s) error = %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := New(Policy{}, nil, Options{}); err == nil {
		t.Errorf("New without a store: no error, want one")
	}
	if errs := (Policy{}).Validate(); errs != nil {
		t.Errorf("zero Policy: Validate() = %v, want none (defaults)", errs)
	}
}

func TestDefaults(t *testing.T) {
	got := Policy{}.WithDefaults()
	want := Policy{
		MaxFailuresPerClientUser: 5, MaxFailuresPerClient: 20, MaxFailuresPerUser: 10,
		FindTime: 10 * time.Minute, BanTime: 5 * time.Minute, MaxBanTime: 24 * time.Hour,
		OffenceMemory: 24 * time.Hour, TrustedSuccessWindow: 24 * time.Hour,
		IPv6PrefixLen: 64, AnswerStatus: 429,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Policy{}.WithDefaults() (-want +got):\n%s", diff)
	}
}
