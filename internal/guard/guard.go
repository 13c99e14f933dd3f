package guard

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/htgate/htgate"
	"github.com/htgate/htgate/internal/state"
)

// Options are a Guard's collaborators. Zero fields take the documented
// default.
type Options struct {
	// Now is the clock. Default time.Now. The state store has its own,
	// which should be the same.
	Now func() time.Time
	// Logger receives one line per lockout and release. Default: discard.
	Logger *slog.Logger
	// OnEvent receives every failure, lockout and release (the audit log).
	// It is called synchronously on the request's goroutine and must not
	// block. Default: none.
	OnEvent func(Event)
	// MaxWait bounds how long Enter waits for checks in flight before it
	// refuses. Default 10s.
	MaxWait time.Duration
	// MaxTracked bounds the lockouts this guard remembers in order to
	// report their release and the htgate_lockouts_active gauge. Beyond
	// it, lockouts are still enforced but their expiry is not reported.
	// Default 100,000.
	MaxTracked int
}

// EventKind is what happened.
type EventKind string

// The event kinds.
const (
	EventFailure EventKind = "failure" // an authentication failure was counted
	EventLockout EventKind = "lockout" // a key was banned
	EventRelease EventKind = "release" // a ban ended (expired or cleared)
)

// Event is one thing the audit log records.
type Event struct {
	// Kind is what happened.
	Kind EventKind
	// Time is when it happened, or for an expiry when the ban ended.
	Time time.Time
	// Key is the kind of the key banned or released; empty for a failure.
	Key KeyKind
	// Client is the client address (for a failure) or the address or IPv6
	// prefix banned; empty for a user ban.
	Client string
	// User is the user name (a long one as "#" and a hash); empty for a
	// client ban or a failure without a user name.
	User string
	// Until is when the ban ends (lockout) or ended (release).
	Until time.Time
	// Level is the ban's offence level, 1 for a first ban.
	Level int
	// Detail says more, for people: "expired", "cleared", "allow-listed".
	Detail string
}

// Verdict is the answer of Check and Enter.
type Verdict struct {
	// Allowed is true if the request may go on to authentication.
	Allowed bool
	// Status is the status to answer a refused request with: the policy's
	// AnswerStatus, or 503 when the guard could not decide.
	Status int
	// Reason is the refusal's reason code: locked_out for a ban,
	// too_many_requests when Enter waited too long, server_error when the
	// state store failed.
	Reason htgate.Reason
	// RetryAfter is how long until the request may succeed, for the
	// Retry-After header (see RetryAfterSeconds).
	RetryAfter time.Duration
	// Key is the kind of the ban that refused the request.
	Key KeyKind
	// Until is when that ban ends.
	Until time.Time
	// Level is that ban's offence level.
	Level int
	// Trusted is true if a ban of the user name was ignored because this
	// address had a recent successful login for it.
	Trusted bool
	// Detail explains the verdict for traces and logs (never the client).
	Detail string
}

// RetryAfterSeconds returns RetryAfter in whole seconds, rounded up, at
// least 1: the value of a Retry-After header.
func (v Verdict) RetryAfterSeconds() int {
	s := int((v.RetryAfter + time.Second - 1) / time.Second)
	return max(s, 1)
}

// Lockout is one ban in force, for `htgate lockout ls`.
type Lockout struct {
	// Key is the kind of key banned.
	Key KeyKind
	// Client is the address or IPv6 prefix banned; empty for a user ban.
	Client string
	// User is the user name banned; empty for a client ban.
	User string
	// Until is when the ban ends by itself.
	Until time.Time
	// Level is the offence level, 1 for a first ban.
	Level int
	// StateKey is the ban's key in the state store.
	StateKey string
}

// Guard enforces a Policy. It is safe for concurrent use.
type Guard struct {
	p        Policy
	sched    state.Schedule
	st       state.Store
	now      func() time.Time
	log      *slog.Logger
	onEvent  func(Event)
	maxWait  time.Duration
	inflight inflight

	mu         sync.Mutex
	tracked    map[string]Lockout // bans this guard created, by state key
	maxTracked int
}

// New returns a guard enforcing p (after defaults) with its state in st.
// It returns an error if p is invalid.
func New(p Policy, st state.Store, o Options) (*Guard, error) {
	p = p.WithDefaults()
	if errs := p.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("guard policy: %w", errors.Join(errs...))
	}
	if st == nil {
		return nil, errors.New("guard: no state store")
	}
	p.AllowList = normalizePrefixes(p.AllowList)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxWait <= 0 {
		o.MaxWait = 10 * time.Second
	}
	if o.MaxTracked <= 0 {
		o.MaxTracked = 100_000
	}
	return &Guard{
		p:          p,
		sched:      p.schedule(),
		st:         st,
		now:        o.Now,
		log:        o.Logger,
		onEvent:    o.OnEvent,
		maxWait:    o.MaxWait,
		inflight:   inflight{m: make(map[string]*slot)},
		tracked:    make(map[string]Lockout),
		maxTracked: o.MaxTracked,
	}, nil
}

// Policy returns the policy in force, defaults applied.
func (g *Guard) Policy() Policy { return g.p }

// errorVerdict is the verdict when the guard cannot decide: refused.
func errorVerdict(detail string) Verdict {
	return Verdict{
		Status:     http.StatusServiceUnavailable,
		Reason:     htgate.ReasonServerError,
		RetryAfter: 5 * time.Second,
		Detail:     detail,
	}
}

// Check decides whether a request from client for user (empty when the
// request has no credentials) may go on to authentication. Call it before
// any password hash is computed, and before the verified-credential cache
// is consulted, so that a locked-out request is refused even with the right
// password. It only reads the state.
//
// If the state store fails, Check returns the error and a refusing verdict
// (503, server_error): the guard fails closed.
func (g *Guard) Check(ctx context.Context, client netip.Addr, user string) (Verdict, error) {
	if allowListed(g.p.AllowList, client) {
		return Verdict{Allowed: true}, nil
	}
	k := makeKeys(client, user, g.p.IPv6PrefixLen)
	var (
		bans []state.Ban
		err  error
	)
	if k.hasUser() {
		bans, err = g.st.Active(ctx, k.client(), k.pair(), k.user())
	} else {
		bans, err = g.st.Active(ctx, k.client())
	}
	if err != nil {
		return errorVerdict("lockout state unavailable"), fmt.Errorf("guard: check bans: %w", err)
	}
	if len(bans) == 0 {
		return Verdict{Allowed: true}, nil
	}
	return g.judge(ctx, k, bans)
}

// judge turns the bans in force for a request into its verdict.
func (g *Guard) judge(ctx context.Context, k keys, bans []state.Ban) (Verdict, error) {
	var (
		worst   state.Ban
		kind    KeyKind
		trusted bool
	)
	for _, b := range bans {
		bk := g.kindOf(k, b.Key)
		if bk == KeyUser && g.p.TrustedSuccessWindow > 0 {
			ok, err := g.st.Marked(ctx, k.pair())
			if err != nil {
				return errorVerdict("lockout state unavailable"), fmt.Errorf("guard: check trusted address: %w", err)
			}
			if ok {
				trusted = true
				continue
			}
		}
		if kind == "" || b.Until.After(worst.Until) {
			worst, kind = b, bk
		}
	}
	if kind == "" {
		_, _, user, _ := parseKey(k.user())
		return Verdict{Allowed: true, Trusted: trusted, Detail: "user " + user + " is locked out, but this address logged in as the user recently"}, nil
	}
	_, client, user, _ := parseKey(worst.Key)
	return Verdict{
		Status:     g.p.AnswerStatus,
		Reason:     htgate.ReasonTooManyRequests,
		RetryAfter: max(worst.Until.Sub(g.now()), 0),
		Key:        kind,
		Until:      worst.Until,
		Level:      worst.Level,
		Trusted:    trusted,
		Detail:     describe(kind, client, user) + " is locked out until " + worst.Until.UTC().Format(time.RFC3339) + fmt.Sprintf(" (ban level %d)", worst.Level),
	}, nil
}

// kindOf returns which of k's keys key is.
func (g *Guard) kindOf(k keys, key string) KeyKind {
	switch {
	case key == k.pair() && k.hasUser():
		return KeyClientUser
	case key == k.client():
		return KeyClient
	default:
		return KeyUser
	}
}

// describe names a key for people.
func describe(kind KeyKind, client, user string) string {
	switch kind {
	case KeyClientUser:
		return "user " + user + " at " + client
	case KeyClient:
		return "client " + client
	default:
		return "user " + user
	}
}

// limitOf returns the failure limit of a key kind (<= 0: not counted).
func (g *Guard) limitOf(kind KeyKind) int64 {
	switch kind {
	case KeyClientUser:
		return int64(g.p.MaxFailuresPerClientUser)
	case KeyClient:
		return int64(g.p.MaxFailuresPerClient)
	default:
		return int64(g.p.MaxFailuresPerUser)
	}
}

// counted returns the keys of a request that count failures, with their
// kinds: the pair, the client and the user, those with a limit.
func (g *Guard) counted(k keys) (out [3]struct {
	key  string
	kind KeyKind
}, n int) {
	add := func(key string, kind KeyKind) {
		if g.limitOf(kind) > 0 {
			out[n].key, out[n].kind = key, kind
			n++
		}
	}
	if k.hasUser() {
		add(k.pair(), KeyClientUser)
	}
	add(k.client(), KeyClient)
	if k.hasUser() {
		add(k.user(), KeyUser)
	}
	return out, n
}

// Failure records that a request from client for user failed to
// authenticate: an unknown user, a wrong password, or malformed
// credentials (user ""; counted against the client only). Never call it
// for a request without credentials. A count that reaches its limit bans
// its key (exactly once however many concurrent failures reach it) and
// reports a lockout event. The error, if any, says which counts could not
// be recorded; the request's answer (401) does not change.
func (g *Guard) Failure(ctx context.Context, client netip.Addr, user string) error {
	now := g.now()
	ev := Event{Kind: EventFailure, Time: now, Client: clientString(client), User: userName(user)}
	if allowListed(g.p.AllowList, client) {
		ev.Detail = "allow-listed"
		g.emit(ev)
		return nil
	}
	g.emit(ev)
	k := makeKeys(client, user, g.p.IPv6PrefixLen)
	keys, n := g.counted(k)
	var errs []error
	for _, c := range keys[:n] {
		count, err := g.st.Incr(ctx, c.key, g.p.FindTime)
		if err != nil {
			errs = append(errs, fmt.Errorf("count %s failure: %w", c.kind, err))
			continue
		}
		if count < g.limitOf(c.kind) {
			continue
		}
		b, created, err := g.st.Ban(ctx, c.key, g.sched)
		if err != nil {
			errs = append(errs, fmt.Errorf("ban %s: %w", c.kind, err))
			continue
		}
		if created {
			g.lockedOut(ctx, c.key, c.kind, b)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("guard: failure of %s: %w", describe(KeyClientUser, clientString(client), userName(user)), errors.Join(errs...))
	}
	return nil
}

// lockedOut reports a ban this guard created and remembers it until it
// ends.
func (g *Guard) lockedOut(ctx context.Context, key string, kind KeyKind, b state.Ban) {
	_, client, user, _ := parseKey(key)
	lo := Lockout{Key: kind, Client: client, User: user, Until: b.Until, Level: b.Level, StateKey: key}
	g.mu.Lock()
	prev, hadPrev := g.tracked[key]
	if hadPrev || len(g.tracked) < g.maxTracked {
		g.tracked[key] = lo
	}
	g.mu.Unlock()
	if hadPrev {
		// The previous ban of this key ended before Sweep saw it.
		g.released(ctx, prev, prev.Until, "expired")
	}
	g.log.WarnContext(ctx, "guard lockout", "key", string(kind), "client", client, "user", user,
		"until", b.Until, "level", b.Level)
	g.emit(Event{Kind: EventLockout, Time: g.now(), Key: kind, Client: client, User: user, Until: b.Until, Level: b.Level})
}

// Success records that a request from client for user authenticated: the
// (client, user) count starts again, and the address becomes trusted for
// user for TrustedSuccessWindow (a ban of the user name does not apply to
// it). Call it when a password was verified by its hash; a hit of the
// verified-credential cache need not call it. The other counts are not
// reset, so that the owner's logins do not give a distributed attacker
// fresh attempts.
func (g *Guard) Success(ctx context.Context, client netip.Addr, user string) error {
	if user == "" || allowListed(g.p.AllowList, client) {
		return nil
	}
	k := makeKeys(client, user, g.p.IPv6PrefixLen)
	var errs []error
	if err := g.st.Delete(ctx, k.pair()); err != nil {
		errs = append(errs, fmt.Errorf("reset count: %w", err))
	}
	if g.p.TrustedSuccessWindow > 0 {
		if err := g.st.Mark(ctx, k.pair(), g.p.TrustedSuccessWindow); err != nil {
			errs = append(errs, fmt.Errorf("trust address: %w", err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("guard: success of %s: %w", describe(KeyClientUser, clientName(client, g.p.IPv6PrefixLen), userName(user)), errors.Join(errs...))
	}
	return nil
}

// Lockouts returns the bans in force, those that end first first, at most
// limit of them (all if limit <= 0).
func (g *Guard) Lockouts(ctx context.Context, limit int) ([]Lockout, error) {
	bans, err := g.st.List(ctx, limit)
	if err != nil {
		return nil, fmt.Errorf("guard: list lockouts: %w", err)
	}
	out := make([]Lockout, 0, len(bans))
	for _, b := range bans {
		kind, client, user, ok := parseKey(b.Key)
		if !ok {
			continue
		}
		out = append(out, Lockout{Key: kind, Client: client, User: user, Until: b.Until, Level: b.Level, StateKey: b.Key})
	}
	return out, nil
}

// Clear ends bans early and forgets their offence levels and counts, for
// `htgate lockout clear`. A valid client selects the bans of that address
// (or IPv6 prefix) and of its pairs with any user; a non-empty user the
// bans of that user name and of its pairs with any address; both select
// only their pair; neither selects every ban. It returns the lockouts it
// ended and reports a release event for each.
func (g *Guard) Clear(ctx context.Context, client netip.Addr, user string) ([]Lockout, error) {
	all, err := g.Lockouts(ctx, 0)
	if err != nil {
		return nil, err
	}
	var cname, uname string
	if client.IsValid() {
		cname = clientName(client, g.p.IPv6PrefixLen)
	}
	if user != "" {
		uname = userName(user)
	}
	var (
		cleared []Lockout
		keys    []string
	)
	for _, lo := range all {
		if !matches(lo, cname, uname) {
			continue
		}
		cleared = append(cleared, lo)
		keys = append(keys, lo.StateKey)
	}
	// Counts of keys that are not banned now are forgotten too.
	if cname != "" || uname != "" {
		k := makeKeys(client, user, g.p.IPv6PrefixLen)
		switch {
		case cname != "" && uname != "":
			keys = append(keys, k.pair())
		case cname != "":
			keys = append(keys, k.client())
		default:
			keys = append(keys, k.user())
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	if err := g.st.Unban(ctx, keys...); err != nil {
		return nil, fmt.Errorf("guard: clear lockouts: %w", err)
	}
	if err := g.st.Delete(ctx, keys...); err != nil {
		return nil, fmt.Errorf("guard: clear failure counts: %w", err)
	}
	now := g.now()
	g.mu.Lock()
	for _, key := range keys {
		delete(g.tracked, key)
	}
	g.mu.Unlock()
	for _, lo := range cleared {
		g.released(ctx, lo, now, "cleared")
	}
	return cleared, nil
}

// matches reports whether lo is selected by the client and user names
// (empty: any).
func matches(lo Lockout, client, user string) bool {
	if client != "" && lo.Client != client {
		return false
	}
	if user != "" && lo.User != user {
		return false
	}
	return true
}

// released reports that a ban ended.
func (g *Guard) released(ctx context.Context, lo Lockout, at time.Time, detail string) {
	g.log.InfoContext(ctx, "guard release", "key", string(lo.Key), "client", lo.Client, "user", lo.User,
		"level", lo.Level, "detail", detail)
	g.emit(Event{Kind: EventRelease, Time: at, Key: lo.Key, Client: lo.Client, User: lo.User, Until: lo.Until, Level: lo.Level, Detail: detail})
}

// Sweep reports the release of every ban this guard created that has
// ended by now, and returns how many it reported. Run calls it
// periodically; tests call it directly.
func (g *Guard) Sweep(ctx context.Context) int {
	now := g.now()
	var ended []Lockout
	g.mu.Lock()
	for key, lo := range g.tracked {
		if !lo.Until.After(now) {
			ended = append(ended, lo)
			delete(g.tracked, key)
		}
	}
	g.mu.Unlock()
	slices.SortFunc(ended, func(a, b Lockout) int {
		if c := a.Until.Compare(b.Until); c != 0 {
			return c
		}
		return cmp.Compare(a.StateKey, b.StateKey)
	})
	for _, lo := range ended {
		g.released(ctx, lo, lo.Until, "expired")
	}
	return len(ended)
}

// Run calls Sweep every interval (10s if interval <= 0) until ctx ends.
func (g *Guard) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = 10 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			g.Sweep(ctx)
		}
	}
}

// ActiveLockouts returns how many bans this guard created are in force.
func (g *Guard) ActiveLockouts() int {
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, lo := range g.tracked {
		if lo.Until.After(now) {
			n++
		}
	}
	return n
}

// Evictions returns how many live entries the state store evicted for
// room, 0 if it is not bounded.
func (g *Guard) Evictions() uint64 {
	if b, ok := g.st.(state.Bounded); ok {
		return b.Evictions()
	}
	return 0
}

func (g *Guard) emit(ev Event) {
	if g.onEvent != nil {
		g.onEvent(ev)
	}
}

// clientString returns addr as a failure event shows it.
func clientString(addr netip.Addr) string {
	if !addr.IsValid() {
		return unknownClient
	}
	return addr.Unmap().String()
}

// normalizePrefixes masks prefixes and turns IPv4-mapped ones into IPv4.
func normalizePrefixes(in []netip.Prefix) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(in))
	for _, p := range in {
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out
}
