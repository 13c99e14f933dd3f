package state

import (
	"context"
	"time"
)

// Nonces remembers, per Digest nonce, the highest nonce count (RFC 7616
// §3.4, the nc parameter) a verified request used, so that a captured
// request cannot be replayed: each count is accepted once, and only in
// increasing order.
type Nonces interface {
	// Use records nc as the count last used with nonce if nc is greater
	// than every count recorded for nonce so far (0 when none is), and
	// reports whether it was. So of any number of concurrent calls with
	// the same nonce and count, at most one returns true, and a count of 0
	// never does. A successful Use keeps the record for at least ttl from
	// now (it never shortens it); a refused one changes nothing. ttl must
	// be positive. When the record has expired the nonce is unknown again:
	// callers give a ttl at least as long as the nonce is acceptable.
	Use(ctx context.Context, nonce string, nc uint64, ttl time.Duration) (ok bool, err error)
}
