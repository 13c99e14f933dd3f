package guard

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"github.com/htgate/htgate/internal/state"
)

// Policy is the lockout policy. A zero field takes its default; a negative
// limit or duration where noted turns that part off. The defaults are in
// the range fail2ban (5 failures in 10 minutes → a 10 minute ban) and
// Authelia (3 in 2 minutes → 5 minutes) use.
type Policy struct {
	// MaxFailuresPerClientUser is how many failures one address may make
	// for one user name within FindTime before the pair is banned.
	// Default 5; negative: not counted.
	MaxFailuresPerClientUser int
	// MaxFailuresPerClient is how many failures one address may make for
	// any user names within FindTime before the address is banned.
	// Default 20; negative: not counted.
	MaxFailuresPerClient int
	// MaxFailuresPerUser is how many failures all addresses together may
	// make for one user name within FindTime before the user name is
	// banned (slow, distributed guessing). Default 10; negative: not
	// counted.
	MaxFailuresPerUser int
	// FindTime is the window of each count, from its first failure.
	// Default 10m.
	FindTime time.Duration
	// BanTime is the length of a first ban. Default 5m.
	BanTime time.Duration
	// MaxBanTime caps a ban that doubles on each repeat offence.
	// Default 24h.
	MaxBanTime time.Duration
	// OffenceMemory is how long after a ban ends its level is remembered,
	// so that the next ban of the same key is twice as long. Default 24h;
	// negative: forgotten when the ban ends.
	OffenceMemory time.Duration
	// TrustedSuccessWindow is how long a successful login from an address
	// lets that address in despite a ban of the user name. Default 24h;
	// negative: never (a user ban then applies everywhere).
	TrustedSuccessWindow time.Duration
	// AllowList holds client prefixes the guard never bans or refuses.
	// Default empty. Put only addresses you control here (a monitoring
	// host, an office NAT), never a proxy's address: behind a proxy the
	// client address is the forwarded one.
	AllowList []netip.Prefix
	// IPv6PrefixLen is the prefix length by which IPv6 clients are
	// counted and banned. Default 64; 128 counts single addresses.
	IPv6PrefixLen int
	// AnswerStatus is the status of a refused request: 429 (default,
	// with Retry-After) or 401, for clients that understand only 401.
	AnswerStatus int
}

// Policy defaults; see the Policy fields.
const (
	DefaultMaxFailuresPerClientUser = 5
	DefaultMaxFailuresPerClient     = 20
	DefaultMaxFailuresPerUser       = 10
	DefaultFindTime                 = 10 * time.Minute
	DefaultBanTime                  = 5 * time.Minute
	DefaultMaxBanTime               = 24 * time.Hour
	DefaultOffenceMemory            = 24 * time.Hour
	DefaultTrustedSuccessWindow     = 24 * time.Hour
	DefaultIPv6PrefixLen            = 64
)

// WithDefaults returns p with every zero field set to its default.
func (p Policy) WithDefaults() Policy {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defd := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&p.MaxFailuresPerClientUser, DefaultMaxFailuresPerClientUser)
	def(&p.MaxFailuresPerClient, DefaultMaxFailuresPerClient)
	def(&p.MaxFailuresPerUser, DefaultMaxFailuresPerUser)
	defd(&p.FindTime, DefaultFindTime)
	defd(&p.BanTime, DefaultBanTime)
	defd(&p.MaxBanTime, DefaultMaxBanTime)
	defd(&p.OffenceMemory, DefaultOffenceMemory)
	defd(&p.TrustedSuccessWindow, DefaultTrustedSuccessWindow)
	def(&p.IPv6PrefixLen, DefaultIPv6PrefixLen)
	def(&p.AnswerStatus, http.StatusTooManyRequests)
	return p
}

// Validate reports every problem of p after defaults, one error each.
func (p Policy) Validate() []error {
	p = p.WithDefaults()
	var errs []error
	if p.FindTime < 0 {
		errs = append(errs, fmt.Errorf("find time %v is negative", p.FindTime))
	}
	if p.BanTime < 0 {
		errs = append(errs, fmt.Errorf("ban time %v is negative", p.BanTime))
	}
	if p.MaxBanTime < p.BanTime {
		errs = append(errs, fmt.Errorf("max ban time %v is shorter than ban time %v", p.MaxBanTime, p.BanTime))
	}
	if p.IPv6PrefixLen < 1 || p.IPv6PrefixLen > 128 {
		errs = append(errs, fmt.Errorf("IPv6 prefix length %d is not in 1..128", p.IPv6PrefixLen))
	}
	if p.AnswerStatus != http.StatusTooManyRequests && p.AnswerStatus != http.StatusUnauthorized {
		errs = append(errs, fmt.Errorf("answer status %d is neither 429 nor 401", p.AnswerStatus))
	}
	for _, pfx := range p.AllowList {
		if !pfx.IsValid() {
			errs = append(errs, errors.New("allow list holds an invalid prefix"))
		}
	}
	return errs
}

// schedule is the state.Schedule of p (after defaults).
func (p Policy) schedule() state.Schedule {
	return state.Schedule{Base: p.BanTime, Max: p.MaxBanTime, Remember: max(p.OffenceMemory, 0)}
}

// allowListed reports whether addr is in list.
func allowListed(list []netip.Prefix, addr netip.Addr) bool {
	if len(list) == 0 {
		return false
	}
	addr = addr.Unmap()
	for _, p := range list {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}
