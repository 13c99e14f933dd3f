package app

import (
	"context"
	"fmt"

	"github.com/htgate/htgate/internal/config"
	"github.com/htgate/htgate/internal/gateway"
	"github.com/htgate/htgate/internal/state/memory"
	"github.com/htgate/htgate/internal/store"
)

// tokenTable is the managed store's user Bearer tokens as of one store
// version, keyed by their SHA-256, with the credentials of that version
// (for the owners' locks).
type tokenTable struct {
	byHash map[string]gateway.TokenInfo
	creds  *store.Credentials
}

// loadTokens reads every user token of the store (admin API tokens are
// the admin API's business and are left out).
func loadTokens(ctx context.Context, st store.Store, creds *store.Credentials) (*tokenTable, error) {
	all, err := st.ListTokens(ctx, store.TokenFilter{})
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	t := &tokenTable{byHash: make(map[string]gateway.TokenInfo, len(all)), creds: creds}
	for _, tok := range all {
		if tok.User == "" || tok.Hash == "" {
			continue
		}
		t.byHash[tok.Hash] = gateway.TokenInfo{ID: tok.ID, Hash: tok.Hash, User: tok.User, Scopes: tok.Scopes, Expires: tok.Expires, Revoked: tok.Revoked}
	}
	return t, nil
}

// LookupToken implements gateway.TokenSource with the tokens of the
// latest store version read.
func (m *managed) LookupToken(hash string) (gateway.TokenInfo, bool) {
	t := m.tokens.Load()
	if t == nil {
		return gateway.TokenInfo{}, false
	}
	info, ok := t.byHash[hash]
	if ok && t.creds != nil {
		info.OwnerLocked = t.creds.Locked(info.User) || !t.creds.Exists(info.User)
	}
	return info, ok
}

// newFormLogin configures form login: sessions in memory (one node), the
// configured lifetimes, a random CSRF key per process.
func newFormLogin(cfg *config.Config) *gateway.FormLogin {
	return &gateway.FormLogin{
		Sessions: memory.NewSessions(memory.Options{}),
		Idle:     cfg.Sessions.Idle,
		Absolute: cfg.Sessions.Absolute,
	}
}
