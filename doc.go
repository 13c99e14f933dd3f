// Package htgate holds the domain values that travel through the gateway:
// reason codes, principals, authentication challenges and the Decision that
// records why a request was allowed or refused. It imports the standard
// library only; every other package of the module may import it.
package htgate
