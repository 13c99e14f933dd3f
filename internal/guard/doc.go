// Package guard is step 4 of the request path (DESIGN §2): it counts
// authentication failures, locks out clients and accounts that guess, and
// limits each client's request rate and concurrency. It owns the lockout
// policy below, its audit events and its Prometheus metrics; it keeps its
// state behind the state interfaces and imports htgate, state,
// golang.org/x/time/rate, golang-lru and the Prometheus client only.
//
// # Lockout policy
//
// The policy, quoted by the README; the numbers are Policy's defaults.
//
//  1. Failures are counted per client address and user name (5 allowed),
//     per client address (20 allowed, any user names) and per user name
//     across all addresses (10 allowed: slow, distributed guessing). An
//     IPv6 client is counted by its /64 prefix, since one host can use a
//     whole /64.
//  2. A failure is a request whose credentials were checked and did not
//     verify: an unknown user or a wrong password (or malformed
//     credentials, counted against the address only). Unknown and known
//     users count alike, so a lockout never tells an attacker which names
//     exist. A request without credentials — a browser's first request —
//     is never a failure.
//  3. Each count runs in a window of 10 minutes that starts at its first
//     failure (find time). When a count reaches its limit within the
//     window, that address, account or pair is banned for 5 minutes (ban
//     time). A successful login resets the count of its (address, user)
//     pair, not the others.
//  4. A repeat offence doubles the ban: 5, 10, 20 minutes... up to 24 hours
//     (max ban time). A key's offence level is remembered for 24 hours
//     after its ban ends, then forgotten. While a window is still open, a
//     failure after a ban has ended bans again at once, at the next level.
//  5. A ban ends by itself, or earlier with `htgate lockout clear`.
//  6. A banned request is refused before any password hash is computed,
//     even when it carries the right password: 429 Too Many Requests with
//     Retry-After (the seconds until the ban ends) and reason locked_out,
//     or 401 if so configured (answer_status).
//  7. A ban of a user name does not apply to an address from which that
//     user logged in successfully within the last 24 hours (trusted
//     success window), so an attacker cannot lock the owner out of their
//     own site. Bans of an address, or of the (address, user) pair, always
//     apply.
//  8. Allow-listed addresses (CIDR prefixes, none by default) are never
//     banned and never refused by the guard, even for a banned user name;
//     their failures are reported (metrics, audit) but counted nowhere.
//  9. Fail closed: if the state store cannot answer, Check returns an
//     error with a refusing verdict (503, reason server_error), never
//     "allowed".
//
// # Races and the bound on password checks
//
// Check only reads; the count grows when Failure is called after a hash
// was computed. Concurrent requests can therefore all pass Check before
// any of their failures is counted. Enter closes that gap on one node: it
// is called just before a hash is computed and waits while the failures
// counted plus the checks in flight would reach a limit. With Check, Enter
// and Attempt.Failure used as the gateway uses them, at most limit hashes
// are computed per key and window on each node, plus one whenever a ban
// has ended while its window is still open; with N nodes sharing a state
// store, at most N times that. Of any number of concurrent failures that
// reach a limit, exactly one creates the ban and reports the lockout
// event.
//
// # Per-client limits
//
// Limiter bounds the concurrent requests and the request rate of each
// client address, in the spirit of IIS Dynamic IP Restrictions. It is off
// unless ClientLimits sets a limit, so a default installation never
// refuses a normal site's traffic.
package guard
