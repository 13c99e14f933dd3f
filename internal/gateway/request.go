package gateway

import (
	"net/http"

	"github.com/htgate/htgate"
)

// normalize computes the canonical path (step 1) that the matcher and the
// backend both use; an ambiguous target is refused with 400.
func (g *Gateway) normalize(r *http.Request, d *htgate.Decision) (path, escaped string, ok bool) {
	raw := r.URL.EscapedPath()
	if r.Method == http.MethodOptions && r.URL.Path == "*" {
		// OPTIONS * concerns the whole server: match it as the root.
		raw = "/"
	}
	canonical, err := NormalizePath(raw)
	if err != nil {
		d.Path = r.URL.Path
		d.Refuse(http.StatusBadRequest, htgate.ReasonBadRequest, "normalize", err.Error())
		return "", "", false
	}
	d.Path = canonical
	switch {
	case !d.Tracing:
	case canonical == r.URL.Path:
		d.Record("normalize", htgate.OutcomePass, "path "+canonical)
	default:
		d.Record("normalize", htgate.OutcomePass, "path "+r.URL.Path+" is "+canonical)
	}
	return canonical, EscapeCanonical(canonical), true
}

// resolveClient decides the client address (step 2).
func (g *Gateway) resolveClient(r *http.Request, d *htgate.Decision) {
	client, via := g.opts.ClientIP.Resolve(r)
	d.Client = client
	if d.Tracing {
		d.Record("client", htgate.OutcomeInfo, "client "+client.String()+" (from "+via+")")
	}
}
