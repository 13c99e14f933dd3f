// Package upstream is the last step of the request path: it forwards an
// allowed request to an upstream HTTP server (Proxy, built on
// httputil.ReverseProxy with Rewrite) or serves it from a static docroot
// (Static, confined with os.Root), or, as a forward proxy, sends it to the
// host it names or tunnels it (Forward). It strips every client-sent
// spelling of the identity, forwarding and path-override headers and sets
// the identity headers htgate vouches for. It imports the standard library
// only.
package upstream
