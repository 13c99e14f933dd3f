package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	neturl "net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/htgate/htgate/internal/state"
)

// gcMargin is how long after an entry ended the server deletes it.
const gcMargin = time.Minute

// Options tune New and Open. Zero fields take the documented defaults.
type Options struct {
	// Prefix is put before every key. Default "htgate:".
	Prefix string
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Store is the state of the gateway on Redis. It implements state.Store
// and state.Nonces (Sessions gives the state.Sessions on the same client)
// and is safe for concurrent use.
type Store struct {
	c      goredis.UniversalClient
	prefix string
	now    func() time.Time
	own    bool
}

var (
	_ state.Store    = (*Store)(nil)
	_ state.Nonces   = (*Store)(nil)
	_ state.Sessions = (*Sessions)(nil)
)

// Sessions is the state.Sessions of a Store (its Get would clash with
// Counters.Get).
type Sessions struct{ s *Store }

// Sessions returns the form-login sessions kept on s's server.
func (s *Store) Sessions() *Sessions { return &Sessions{s: s} }

// New returns a store on the client c, which the caller keeps and closes.
func New(c goredis.UniversalClient, o Options) *Store {
	if o.Prefix == "" {
		o.Prefix = "htgate:"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Store{c: c, prefix: o.Prefix, now: o.Now}
}

// Open returns a store on a client of url (redis://[user:password@]host:
// port/db or rediss://... for TLS). A prefix query parameter
// (redis://host:6379/0?prefix=site1:) sets Options.Prefix when that is
// empty. It does not wait for the server: an unreachable server makes the
// operations fail until it answers. Close closes the client.
func Open(url string, o Options) (*Store, error) {
	if u, err := neturl.Parse(url); err == nil && u.Query().Has("prefix") {
		q := u.Query()
		if o.Prefix == "" {
			o.Prefix = q.Get("prefix")
		}
		q.Del("prefix")
		u.RawQuery = q.Encode()
		url = u.String()
	}
	opt, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("state: Redis URL: %w", err)
	}
	opt.DialTimeout = 500 * time.Millisecond
	opt.ReadTimeout = 500 * time.Millisecond
	opt.WriteTimeout = 500 * time.Millisecond
	// One retry (a pooled connection broken by a server restart), and a
	// quick refusal when the server is down: the guard then fails closed
	// at once instead of holding the request.
	opt.MaxRetries = 1
	opt.DialerRetries = 1
	opt.DialerRetryTimeout = 10 * time.Millisecond
	s := New(goredis.NewClient(opt), o)
	s.own = true
	return s, nil
}

// Ping checks that the server answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.c.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("state: Redis: %w", err)
	}
	return nil
}

// Close closes the client if Open made it.
func (s *Store) Close() error {
	if s.own {
		return s.c.Close()
	}
	return nil
}

// Prefix is the prefix of the store's keys.
func (s *Store) Prefix() string { return s.prefix }

// stamp formats Unix nanoseconds so that strings compare as numbers.
func stamp(ns int64) string { return fmt.Sprintf("%020d", max(ns, 0)) }

// unstamp parses a stamp.
func unstamp(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// addNanos returns t+d in Unix nanoseconds, saturating.
func addNanos(t int64, d time.Duration) int64 {
	if d > 0 && t > (1<<63-1)-int64(d) {
		return 1<<63 - 1
	}
	return t + int64(d)
}

// px is the server expiry, in milliseconds, of an entry that ends d from
// now: d plus the margin, at least 1.
func px(d time.Duration) string {
	d = max(d, 0)
	if d > 100*365*24*time.Hour {
		d = 100 * 365 * 24 * time.Hour
	}
	return strconv.FormatInt((d + gcMargin).Milliseconds(), 10)
}

func check(ctx context.Context, op, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("state: %s: %w", op, err)
	}
	if key == "" {
		return fmt.Errorf("state: %s: empty key: %w", op, state.ErrInvalid)
	}
	return nil
}

func (s *Store) key(kind byte, k string) string {
	var b strings.Builder
	b.Grow(len(s.prefix) + 2 + len(k))
	b.WriteString(s.prefix)
	b.WriteByte(kind)
	b.WriteByte(':')
	b.WriteString(k)
	return b.String()
}

func (s *Store) keys(kind byte, ks []string) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = s.key(kind, k)
	}
	return out
}

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("state: %s: %w", op, err)
}

// del deletes keys of one kind.
func (s *Store) del(ctx context.Context, op string, kind byte, keys []string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("state: %s: %w", op, err)
	}
	if len(keys) == 0 {
		return nil
	}
	return wrap(op, s.c.Del(ctx, s.keys(kind, keys)...).Err())
}

// incrScript: KEYS[1] counter; ARGV now, end of a new window, px. The value
// is "END COUNT".
var incrScript = goredis.NewScript(`
local v = redis.call('GET', KEYS[1])
local n = 0
local e = ARGV[2]
if v then
	local ve = string.sub(v, 1, 20)
	if ve > ARGV[1] then
		n = tonumber(string.sub(v, 22))
		e = ve
	end
end
n = n + 1
if n == 1 then
	redis.call('SET', KEYS[1], e .. ' ' .. n, 'PX', ARGV[3])
else
	redis.call('SET', KEYS[1], e .. ' ' .. n, 'KEEPTTL')
end
return n
`)

// Incr implements state.Counters.
func (s *Store) Incr(ctx context.Context, key string, window time.Duration) (int64, error) {
	if err := check(ctx, "incr", key); err != nil {
		return 0, err
	}
	if window <= 0 {
		return 0, fmt.Errorf("state: incr %q: window %v is not positive: %w", key, window, state.ErrInvalid)
	}
	now := s.now().UnixNano()
	n, err := incrScript.Run(ctx, s.c, []string{s.key('c', key)}, stamp(now), stamp(addNanos(now, window)), px(window)).Int64()
	return n, wrap("incr", err)
}

// Get implements state.Counters.
func (s *Store) Get(ctx context.Context, key string) (int64, error) {
	if err := check(ctx, "get", key); err != nil {
		return 0, err
	}
	v, err := s.c.Get(ctx, s.key('c', key)).Result()
	if errors.Is(err, goredis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, wrap("get", err)
	}
	if len(v) < 22 || v[:20] <= stamp(s.now().UnixNano()) {
		return 0, nil
	}
	n, _ := strconv.ParseInt(v[21:], 10, 64)
	return n, nil
}

// Delete implements state.Sessions.
func (ss *Sessions) Delete(ctx context.Context, keys ...string) error {
	return ss.s.del(ctx, "delete sessions", 's', keys)
}

// Delete implements state.Counters.
func (s *Store) Delete(ctx context.Context, keys ...string) error {
	return s.del(ctx, "delete", 'c', keys)
}

// banScript: KEYS[1] ban, KEYS[2] index; ARGV now, member, levels K, then
// for each level 1..K: until, forget, px, index score. The value is
// "UNTIL FORGET LEVEL". It returns {until, level, created}.
var banScript = goredis.NewScript(`
local v = redis.call('GET', KEYS[1])
local level = 1
if v then
	local u, f = string.sub(v, 1, 20), string.sub(v, 22, 41)
	local l = tonumber(string.sub(v, 43))
	if f > ARGV[1] then
		if u > ARGV[1] then
			return {u, l, 0}
		end
		level = l + 1
	end
end
local i = level
local k = tonumber(ARGV[3])
if i > k then i = k end
local b = 4 + (i - 1) * 4
redis.call('SET', KEYS[1], ARGV[b] .. ' ' .. ARGV[b + 1] .. ' ' .. level, 'PX', ARGV[b + 2])
redis.call('ZADD', KEYS[2], ARGV[b + 3], ARGV[2])
return {ARGV[b], level, 1}
`)

// Ban implements state.Bans.
func (s *Store) Ban(ctx context.Context, key string, sched state.Schedule) (state.Ban, bool, error) {
	if err := check(ctx, "ban", key); err != nil {
		return state.Ban{}, false, err
	}
	if err := sched.Validate(); err != nil {
		return state.Ban{}, false, fmt.Errorf("state: ban %q: %w", key, err)
	}
	now := s.now().UnixNano()
	// The ban of every level up to the one where the schedule stops
	// growing; the script picks the one it needs.
	args := []any{stamp(now), key, 0}
	levels := 0
	for prev := time.Duration(-1); levels < 64; {
		d := sched.Duration(levels + 1)
		if d == prev {
			break
		}
		prev = d
		levels++
		until := addNanos(now, d)
		forget := addNanos(until, sched.Remember)
		args = append(args, stamp(until), stamp(forget), px(time.Duration(forget-now)), float64(until)/1e9)
	}
	args[2] = levels
	res, err := banScript.Run(ctx, s.c, []string{s.key('b', key), s.prefix + "bans"}, args...).Slice()
	if err != nil {
		return state.Ban{}, false, wrap("ban", err)
	}
	if len(res) != 3 {
		return state.Ban{}, false, fmt.Errorf("state: ban: unexpected reply %v", res)
	}
	until, _ := res[0].(string)
	level, _ := res[1].(int64)
	created, _ := res[2].(int64)
	return state.Ban{Key: key, Until: time.Unix(0, unstamp(until)), Level: int(level)}, created == 1, nil
}

// parseBan parses a ban value; ok is false when it is not in force at now.
func parseBan(key, v, now string) (state.Ban, bool) {
	if len(v) < 43 || v[:20] <= now {
		return state.Ban{}, false
	}
	level, _ := strconv.Atoi(v[42:])
	return state.Ban{Key: key, Until: time.Unix(0, unstamp(v[:20])), Level: level}, true
}

// Active implements state.Bans: one MGET.
func (s *Store) Active(ctx context.Context, keys ...string) ([]state.Ban, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("state: active: %w", err)
	}
	if len(keys) == 0 {
		return nil, nil
	}
	vals, err := s.c.MGet(ctx, s.keys('b', keys)...).Result()
	if err != nil {
		return nil, wrap("active", err)
	}
	var out []state.Ban
	var now string
	for i, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue
		}
		if now == "" {
			now = stamp(s.now().UnixNano())
		}
		if b, ok := parseBan(keys[i], str, now); ok {
			out = append(out, b)
		}
	}
	return out, nil
}

// Unban implements state.Bans.
func (s *Store) Unban(ctx context.Context, keys ...string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("state: unban: %w", err)
	}
	if len(keys) == 0 {
		return nil
	}
	members := make([]any, len(keys))
	for i, k := range keys {
		members[i] = k
	}
	_, err := s.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.Del(ctx, s.keys('b', keys)...)
		p.ZRem(ctx, s.prefix+"bans", members...)
		return nil
	})
	return wrap("unban", err)
}

// List implements state.Bans. It reads the index entries of bans that may
// be in force, then their values, and orders them exactly.
func (s *Store) List(ctx context.Context, limit int) ([]state.Ban, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("state: list: %w", err)
	}
	nowNS := s.now().UnixNano()
	index := s.prefix + "bans"
	// Entries a second or more in the past are gone for good.
	if err := s.c.ZRemRangeByScore(ctx, index, "-inf", strconv.FormatFloat(float64(nowNS)/1e9-1, 'f', -1, 64)).Err(); err != nil {
		return nil, wrap("list", err)
	}
	members, err := s.c.ZRangeByScore(ctx, index, &goredis.ZRangeBy{Min: strconv.FormatFloat(float64(nowNS)/1e9-1, 'f', -1, 64), Max: "+inf"}).Result()
	if err != nil {
		return nil, wrap("list", err)
	}
	out := []state.Ban{}
	now := stamp(nowNS)
	for start := 0; start < len(members); start += 500 {
		chunk := members[start:min(start+500, len(members))]
		vals, err := s.c.MGet(ctx, s.keys('b', chunk)...).Result()
		if err != nil {
			return nil, wrap("list", err)
		}
		for i, v := range vals {
			if str, ok := v.(string); ok {
				if b, ok := parseBan(chunk[i], str, now); ok {
					out = append(out, b)
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b state.Ban) int {
		if c := a.Until.Compare(b.Until); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Mark implements state.Marks. The value is the mark's end.
func (s *Store) Mark(ctx context.Context, key string, ttl time.Duration) error {
	if err := check(ctx, "mark", key); err != nil {
		return err
	}
	if ttl <= 0 {
		return fmt.Errorf("state: mark %q: time to live %v is not positive: %w", key, ttl, state.ErrInvalid)
	}
	end := addNanos(s.now().UnixNano(), ttl)
	return wrap("mark", s.c.Do(ctx, "SET", s.key('m', key), stamp(end), "PX", px(ttl)).Err())
}

// Marked implements state.Marks.
func (s *Store) Marked(ctx context.Context, key string) (bool, error) {
	if err := check(ctx, "marked", key); err != nil {
		return false, err
	}
	v, err := s.c.Get(ctx, s.key('m', key)).Result()
	if errors.Is(err, goredis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, wrap("marked", err)
	}
	return v > stamp(s.now().UnixNano()), nil
}

// Unmark implements state.Marks.
func (s *Store) Unmark(ctx context.Context, keys ...string) error {
	return s.del(ctx, "unmark", 'm', keys)
}

// useScript: KEYS[1] nonce; ARGV now, nc, end, px. The value is
// "LASTNC END", both 20 digits.
var useScript = goredis.NewScript(`
local v = redis.call('GET', KEYS[1])
local e = ARGV[3]
if v then
	local last, ve = string.sub(v, 1, 20), string.sub(v, 22, 41)
	if ve > ARGV[1] then
		if ARGV[2] <= last then
			return 0
		end
		if ve > e then e = ve end
	end
end
if ARGV[2] == '00000000000000000000' then
	return 0
end
if e == ARGV[3] then
	redis.call('SET', KEYS[1], ARGV[2] .. ' ' .. e, 'PX', ARGV[4])
else
	redis.call('SET', KEYS[1], ARGV[2] .. ' ' .. e, 'KEEPTTL')
end
return 1
`)

// Use implements state.Nonces.
func (s *Store) Use(ctx context.Context, nonce string, nc uint64, ttl time.Duration) (bool, error) {
	if err := check(ctx, "use nonce", nonce); err != nil {
		return false, err
	}
	if ttl <= 0 {
		return false, fmt.Errorf("state: use nonce: time to live %v is not positive: %w", ttl, state.ErrInvalid)
	}
	now := s.now().UnixNano()
	n, err := useScript.Run(ctx, s.c, []string{s.key('n', nonce)}, stamp(now), fmt.Sprintf("%020d", nc), stamp(addNanos(now, ttl)), px(ttl)).Int64()
	return n == 1, wrap("use nonce", err)
}

// sessionJSON is a session as stored after its idle end and expiry.
type sessionJSON struct {
	User    string `json:"u"`
	Source  string `json:"s"`
	Created int64  `json:"c"`
	Expires int64  `json:"e"`
}

// expiryStamp is a session's absolute end; a zero Expires never ends.
func expiryStamp(t time.Time) string {
	if t.IsZero() {
		return stamp(1<<63 - 1)
	}
	return stamp(t.UnixNano())
}

// Create implements state.Sessions. The value is "IDLEEND EXPIRES JSON".
func (ss *Sessions) Create(ctx context.Context, key string, sess state.Session, idle time.Duration) error {
	s := ss.s
	if err := check(ctx, "create session", key); err != nil {
		return err
	}
	if idle <= 0 {
		return fmt.Errorf("state: create session: idle lifetime %v is not positive: %w", idle, state.ErrInvalid)
	}
	data, err := json.Marshal(sessionJSON{User: sess.User, Source: sess.Source, Created: sess.Created.UnixNano(), Expires: sess.Expires.UnixNano()})
	if err != nil {
		return fmt.Errorf("state: create session: %w", err)
	}
	now := s.now().UnixNano()
	v := stamp(addNanos(now, idle)) + " " + expiryStamp(sess.Expires) + " " + string(data)
	return wrap("create session", s.c.Do(ctx, "SET", s.key('s', key), v, "PX", px(idle)).Err())
}

// getScript: KEYS[1] session; ARGV now, new idle end, px. It returns the
// JSON of a live session after extending its idle end, or nil.
var getScript = goredis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then
	return false
end
local i, e = string.sub(v, 1, 20), string.sub(v, 22, 41)
if i <= ARGV[1] or e <= ARGV[1] then
	return false
end
local rest = string.sub(v, 43)
redis.call('SET', KEYS[1], ARGV[2] .. ' ' .. e .. ' ' .. rest, 'PX', ARGV[3])
return rest
`)

// Get implements state.Sessions.
func (ss *Sessions) Get(ctx context.Context, key string, idle time.Duration) (state.Session, bool, error) {
	s := ss.s
	if err := check(ctx, "get session", key); err != nil {
		return state.Session{}, false, err
	}
	if idle <= 0 {
		return state.Session{}, false, fmt.Errorf("state: get session: idle lifetime %v is not positive: %w", idle, state.ErrInvalid)
	}
	now := s.now().UnixNano()
	data, err := getScript.Run(ctx, s.c, []string{s.key('s', key)}, stamp(now), stamp(addNanos(now, idle)), px(idle)).Text()
	if errors.Is(err, goredis.Nil) {
		return state.Session{}, false, nil
	}
	if err != nil {
		return state.Session{}, false, wrap("get session", err)
	}
	var j sessionJSON
	if err := json.Unmarshal([]byte(data), &j); err != nil {
		return state.Session{}, false, fmt.Errorf("state: get session: %w", err)
	}
	out := state.Session{User: j.User, Source: j.Source, Created: time.Unix(0, j.Created), Expires: time.Unix(0, j.Expires)}
	return out, true, nil
}
