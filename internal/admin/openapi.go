package admin

import (
	_ "embed"
	"net/http"
)

// openAPI is the OpenAPI 3.1 description of the admin API, written by
// hand; TestOpenAPICoversRoutes checks it against the route table.
//
//go:embed openapi.json
var openAPI []byte

func (s *Server) apiOpenAPI(w http.ResponseWriter, _ *http.Request, _ *principal) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(openAPI)
}
