package gateway

import (
	"net/http"
	"net/url"
)

// IsProxyRequest reports whether r is addressed to a forward proxy: a
// CONNECT request or a request with an absolute-form target
// ("GET http://example.com/ HTTP/1.1").
func IsProxyRequest(r *http.Request) bool {
	return r.Method == http.MethodConnect || (r.URL != nil && r.URL.IsAbs() && r.URL.Host != "")
}

// proxyDecisionRequest is the request a forward proxy's gateway
// (Options.ProxyAuth) decides on: the destination host, the path "/" (so
// that a rule for "/" protects every destination and a rule with a host
// protects one), and Proxy-Authorization in place of Authorization, so
// that the authentication step reads the proxy's credentials. The
// destination's own Authorization is not the proxy's business. The
// original request is what is forwarded; Proxy-Authorization never is.
func proxyDecisionRequest(r *http.Request) *http.Request {
	dr := new(http.Request)
	*dr = *r
	dr.URL = &url.URL{Path: "/"}
	dr.RequestURI = "/"
	dr.Header = make(http.Header, len(r.Header))
	for k, v := range r.Header {
		switch k {
		case "Authorization", "Proxy-Authorization":
		default:
			dr.Header[k] = v
		}
	}
	if v := r.Header.Values("Proxy-Authorization"); len(v) > 0 {
		dr.Header["Authorization"] = v
	}
	return dr
}
