package httpapi

import (
	"net/url"
	"strings"

	"github.com/sellerauth/sellerauth/internal/authflow"
)

// maxQueryLen bounds the whole raw query; the longest legitimate one (the log-in step) is far shorter.
const maxQueryLen = 8192

// params names the parameters a route reads and the longest value each may have.
type params map[string]int

// parseQuery reads the route's parameters from rawQueryString. A known parameter given twice, or
// whose value holds a comma, is refused: API Gateway joins repeated parameters with commas in
// queryStringParameters, and a value that differs between the two views is an attack, not a typo.
// Unknown parameters are ignored, so that Amazon adding one does not break sign-ups.
func parseQuery(raw string, allowed params) (map[string]string, error) {
	if len(raw) > maxQueryLen {
		return nil, &authflow.InputError{Param: "query", Reason: "too long"}
	}
	values, err := url.ParseQuery(raw)
	if err != nil {
		return nil, &authflow.InputError{Param: "query", Reason: "malformed"}
	}
	out := make(map[string]string, len(allowed))
	for name, maxLen := range allowed {
		vs, ok := values[name]
		if !ok {
			continue
		}
		switch {
		case len(vs) > 1:
			return nil, &authflow.InputError{Param: name, Reason: "repeated"}
		case strings.Contains(vs[0], ","):
			return nil, &authflow.InputError{Param: name, Reason: "contains a comma"}
		case len(vs[0]) > maxLen:
			return nil, &authflow.InputError{Param: name, Reason: "too long"}
		}
		out[name] = vs[0]
	}
	return out, nil
}
