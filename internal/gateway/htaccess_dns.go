package gateway

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/htgate/htgate/internal/policy"
)

// DNS answers for Require host, forward-dns and Allow from host are kept
// this long, and a lookup may take at most dnsTimeout.
const (
	dnsTTL        = time.Minute
	dnsTimeout    = 2 * time.Second
	dnsMaxEntries = 4096
)

// dnsResolver is a policy.Resolver over the system resolver, with a small
// cache: mod_authz_host's double-reverse lookups, without a DNS query per
// request.
type dnsResolver struct {
	r   *net.Resolver
	now func() time.Time

	mu    sync.Mutex
	names map[netip.Addr]dnsName
	addrs map[string]dnsAddrs
}

type dnsName struct {
	name    string
	expires time.Time
}

type dnsAddrs struct {
	addrs   []netip.Addr
	expires time.Time
}

var _ policy.Resolver = (*dnsResolver)(nil)

func newDNSResolver(now func() time.Time) *dnsResolver {
	return &dnsResolver{r: net.DefaultResolver, now: now, names: map[netip.Addr]dnsName{}, addrs: map[string]dnsAddrs{}}
}

// HostName returns the client's name when its reverse lookup resolves
// forward to the same address (Apache's REMOTE_DOUBLE_REV), else "".
func (d *dnsResolver) HostName(client netip.Addr) string {
	now := d.now()
	d.mu.Lock()
	if e, ok := d.names[client]; ok && now.Before(e.expires) {
		d.mu.Unlock()
		return e.name
	}
	d.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), dnsTimeout)
	defer cancel()
	name := ""
	if names, err := d.r.LookupAddr(ctx, client.String()); err == nil && len(names) > 0 {
		candidate := strings.TrimSuffix(names[0], ".")
		for _, a := range d.lookup(ctx, candidate) {
			if a.Unmap() == client.Unmap() {
				name = candidate
				break
			}
		}
	}
	d.mu.Lock()
	if len(d.names) >= dnsMaxEntries {
		clear(d.names)
	}
	d.names[client] = dnsName{name: name, expires: now.Add(dnsTTL)}
	d.mu.Unlock()
	return name
}

// Addrs returns the addresses name resolves to.
func (d *dnsResolver) Addrs(name string) []netip.Addr {
	now := d.now()
	d.mu.Lock()
	if e, ok := d.addrs[name]; ok && now.Before(e.expires) {
		d.mu.Unlock()
		return e.addrs
	}
	d.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), dnsTimeout)
	defer cancel()
	addrs := d.lookup(ctx, name)
	d.mu.Lock()
	if len(d.addrs) >= dnsMaxEntries {
		clear(d.addrs)
	}
	d.addrs[name] = dnsAddrs{addrs: addrs, expires: now.Add(dnsTTL)}
	d.mu.Unlock()
	return addrs
}

func (d *dnsResolver) lookup(ctx context.Context, name string) []netip.Addr {
	ips, err := d.r.LookupNetIP(ctx, "ip", name)
	if err != nil {
		return nil
	}
	out := make([]netip.Addr, 0, len(ips))
	for _, ip := range ips {
		out = append(out, ip.Unmap())
	}
	return out
}
