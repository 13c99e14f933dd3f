package guard

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/htgate/htgate"
)

// inflight counts, per key, the password checks in progress on this node.
// An entry exists only while a check holds it, so the map is bounded by
// the requests in flight.
type inflight struct {
	mu sync.Mutex
	m  map[string]*slot
}

type slot struct {
	n    int64
	wake chan struct{} // closed and replaced whenever n drops
}

// Attempt is the right to compute one password hash for a (client, user),
// from Enter. End it with exactly one of Failure, Success or Release;
// Failure and Success record the outcome before they free the place, so
// that the next waiting request sees it. The methods of a nil Attempt do
// nothing. An Attempt is used by one goroutine.
type Attempt struct {
	g      *Guard
	client netip.Addr
	user   string
	held   [3]string
	nheld  int
	done   bool
}

// Enter waits until a password hash may be computed for a request from
// client for user, and returns the Attempt that holds the place. Call it
// after Check allowed the request and the verified-credential cache
// missed, just before hashing.
//
// Enter takes a place for each of the request's counted keys, then checks
// the bans and the failure counts: if, for any key, the failures counted
// plus the places taken up to and including its own would exceed the
// key's limit, it gives its places back and waits for a check in flight to
// end. A request alone in flight for its keys always passes. So when
// concurrent requests guess, no more hashes are computed than the limits
// allow: the waiting requests wake when a check ends, see the ban its
// failure created, and are refused.
//
// A request refused here gets a nil Attempt and a refusing Verdict: the
// ban's, or too_many_requests with a Retry-After of one second if it
// waited Options.MaxWait. If ctx ends first, Enter returns ctx's error; if
// the state store fails, an error and a 503 verdict.
func (g *Guard) Enter(ctx context.Context, client netip.Addr, user string) (Verdict, *Attempt, error) {
	if allowListed(g.p.AllowList, client) {
		return Verdict{Allowed: true}, &Attempt{g: g, client: client, user: user}, nil
	}
	k := makeKeys(client, user, g.p.IPv6PrefixLen)
	keys, n := g.counted(k)
	var timeout <-chan time.Time
	for {
		a := &Attempt{g: g, client: client, user: user}
		var (
			kinds [3]KeyKind
			taken [3]int64 // places taken on the key when a took its own, a's included
		)
		g.inflight.mu.Lock()
		for _, c := range keys[:n] {
			s := g.inflight.m[c.key]
			if s == nil {
				s = &slot{wake: make(chan struct{})}
				g.inflight.m[c.key] = s
			}
			s.n++
			a.held[a.nheld], kinds[a.nheld], taken[a.nheld] = c.key, c.kind, s.n
			a.nheld++
		}
		g.inflight.mu.Unlock()

		v, err := g.Check(ctx, client, user)
		if err != nil || !v.Allowed {
			a.release(false)
			return v, nil, err
		}
		blocked := -1
		for i, key := range a.held[:a.nheld] {
			if taken[i] == 1 || (kinds[i] == KeyUser && v.Trusted) {
				continue // alone, or the user's ban does not apply here
			}
			count, err := g.st.Get(ctx, key)
			if err != nil {
				a.release(false)
				return errorVerdict("failure counts unavailable"), nil, fmt.Errorf("guard: enter: %w", err)
			}
			if count+taken[i] > g.limitOf(kinds[i]) {
				blocked = i
				break
			}
		}
		if blocked < 0 {
			return v, a, nil
		}

		// Give the places back and wait for another check to end.
		blockedKey, blockedKind := a.held[blocked], kinds[blocked]
		a.release(false)
		g.inflight.mu.Lock()
		var wait chan struct{}
		if s := g.inflight.m[blockedKey]; s != nil {
			wait = s.wake
		}
		g.inflight.mu.Unlock()
		if wait == nil {
			continue // the others ended meanwhile: try again at once
		}
		if timeout == nil {
			t := time.NewTimer(g.maxWait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return errorVerdict("request ended while waiting"), nil, fmt.Errorf("guard: enter: %w", ctx.Err())
		case <-timeout:
			return Verdict{
				Status:     g.p.AnswerStatus,
				Reason:     htgate.ReasonTooManyRequests,
				RetryAfter: time.Second,
				Key:        blockedKind,
				Detail:     "too many password checks in flight for this " + string(blockedKind),
			}, nil, nil
		}
	}
}

// Failure records the failure (see Guard.Failure) and ends the attempt.
func (a *Attempt) Failure(ctx context.Context) error {
	if a == nil || a.done {
		return nil
	}
	defer a.Release()
	return a.g.Failure(ctx, a.client, a.user)
}

// Success records the success (see Guard.Success) and ends the attempt.
func (a *Attempt) Success(ctx context.Context) error {
	if a == nil || a.done {
		return nil
	}
	defer a.Release()
	return a.g.Success(ctx, a.client, a.user)
}

// Release ends the attempt without an outcome (for example when the
// credential source could not be read). Calling it again does nothing.
func (a *Attempt) Release() { a.release(true) }

// release gives the attempt's places back. After a check (wake true) every
// waiter of its keys wakes to look at the new counts. A request that only
// gives back the places it took to look (wake false) changed nothing, so
// it wakes nobody unless it was the last holder: otherwise every waiter,
// on waking, would take, look, give back and wake all the others again,
// and a crowd of concurrent guesses would keep the CPU busy doing that.
func (a *Attempt) release(wake bool) {
	if a == nil || a.done {
		return
	}
	a.done = true
	in := &a.g.inflight
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, key := range a.held[:a.nheld] {
		s := in.m[key]
		if s == nil {
			continue
		}
		s.n--
		switch {
		case s.n <= 0:
			close(s.wake)
			delete(in.m, key)
		case wake:
			close(s.wake)
			s.wake = make(chan struct{})
		}
	}
}
