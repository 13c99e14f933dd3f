package state

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrInvalid is returned (wrapped) for an argument no operation accepts: an
// empty key, a non-positive window or time to live, an invalid Schedule.
var ErrInvalid = errors.New("state: invalid argument")

// Counters counts events per key in a fixed window.
type Counters interface {
	// Incr adds 1 to key's count and returns the new count. The window
	// starts at the Incr that finds no live count (the count is then 1)
	// and lasts window; later Incrs do not extend it. When it ends the
	// count is gone. window must be positive.
	Incr(ctx context.Context, key string, window time.Duration) (int64, error)
	// Get returns key's count in its current window, 0 if there is none.
	Get(ctx context.Context, key string) (int64, error)
	// Delete forgets the counts of keys; absent keys are not an error.
	Delete(ctx context.Context, keys ...string) error
}

// Ban is one ban of a key.
type Ban struct {
	// Key is the banned key.
	Key string
	// Until is when the ban ends by itself.
	Until time.Time
	// Level is 1 for a first offence and one more for each ban of the same
	// key while the previous one is remembered (see Schedule.Remember).
	Level int
}

// Bans holds bans and remembers each key's offence level for a while after
// its ban ends, so that repeat offences get longer bans.
type Bans interface {
	// Ban bans key unless it is banned now. The new ban's level is one
	// more than the level remembered for key (1 if none), it lasts
	// s.Duration(level), and its level is remembered until s.Remember
	// after it ends. Ban returns the ban in force and whether this call
	// created it: of any number of concurrent calls for one key, exactly
	// one creates the ban.
	Ban(ctx context.Context, key string, s Schedule) (b Ban, created bool, err error)
	// Active returns the bans in force among keys, in the order of keys.
	// It returns nil (no allocation) when none is banned.
	Active(ctx context.Context, keys ...string) ([]Ban, error)
	// Unban ends the bans of keys and forgets their levels; absent keys
	// are not an error.
	Unban(ctx context.Context, keys ...string) error
	// List returns the bans in force ordered by Until, then Key, at most
	// limit of them (all if limit <= 0).
	List(ctx context.Context, limit int) ([]Ban, error)
}

// Marks remembers that something happened to a key recently.
type Marks interface {
	// Mark marks key for ttl from now, replacing an earlier mark's expiry.
	// ttl must be positive.
	Mark(ctx context.Context, key string, ttl time.Duration) error
	// Marked reports whether key has a live mark.
	Marked(ctx context.Context, key string) (bool, error)
	// Unmark removes the marks of keys; absent keys are not an error.
	Unmark(ctx context.Context, keys ...string) error
}

// Store is everything the guard needs from one state backend.
type Store interface {
	Counters
	Bans
	Marks
}

// Bounded is implemented by stores that keep at most a fixed number of
// entries in memory and evict the least recently used beyond that.
type Bounded interface {
	// Len returns the number of entries held now, expired ones included
	// until they are evicted or looked at.
	Len() int
	// Cap returns the most entries the store holds.
	Cap() int
	// Evictions returns how many live (unexpired) entries were evicted
	// to make room since the store was created.
	Evictions() uint64
}

// Schedule says how long bans last: Base for a first offence, doubling for
// each repeat offence up to Max, the offence level remembered for Remember
// after a ban ends.
type Schedule struct {
	// Base is the first ban's length. It must be positive.
	Base time.Duration
	// Max caps a ban's length; Max < Base means Base.
	Max time.Duration
	// Remember is how long after a ban ends its level is remembered, so
	// that the next ban of the key is longer; 0 forgets it at once.
	Remember time.Duration
}

// Validate reports whether s can be used.
func (s Schedule) Validate() error {
	if s.Base <= 0 {
		return fmt.Errorf("ban schedule: base duration %v is not positive: %w", s.Base, ErrInvalid)
	}
	if s.Remember < 0 {
		return fmt.Errorf("ban schedule: remember duration %v is negative: %w", s.Remember, ErrInvalid)
	}
	return nil
}

// Duration returns the length of a ban at level (1 for a first offence):
// Base × 2^(level-1), at most Max (and never more than math.MaxInt64).
func (s Schedule) Duration(level int) time.Duration {
	limit := s.Max
	if limit < s.Base {
		limit = s.Base
	}
	d := s.Base
	for i := 1; i < level && d < limit; i++ {
		if d > math.MaxInt64/2 {
			return limit
		}
		d *= 2
	}
	return min(d, limit)
}
