package authflow

import (
	"fmt"
	"strings"
)

// Role is the part of the flow one function serves. A Service is wired for one role and holds
// only that role's dependencies (docs/how-it-works.md has the map of functions).
type Role string

// The roles, one per function that runs the flow.
const (
	RoleAuthorize Role = "authorize"   // GET /connect, GET /, GET /authorize
	RoleLogin     Role = "login"       // GET /login
	RoleCallback  Role = "callback"    // GET /callback
	RoleBackend   Role = "connect-api" // the app's backend API
)

// New returns s for role, or an error naming every dependency role needs that s lacks: a
// function fails its init with that message rather than panicking on a nil interface later.
func New(role Role, s Service) (*Service, error) {
	need := map[string]bool{"Now": s.Now == nil, "Random": s.Random == nil}
	switch role {
	case RoleAuthorize, RoleLogin:
		need["States"], need["Sessions"] = s.States == nil, s.Sessions == nil
	case RoleCallback:
		need["States"], need["Sessions"] = s.States == nil, s.Sessions == nil
		need["Tokens"], need["Exchanger"] = s.Tokens == nil, s.Exchanger == nil
	case RoleBackend:
		need["Sessions"], need["ConnectionStore"] = s.Sessions == nil, s.ConnectionStore == nil
	default:
		return nil, fmt.Errorf("authflow: unknown role %q", role)
	}
	var missing []string
	for _, name := range []string{"Now", "Random", "States", "Sessions", "Tokens", "Exchanger", "ConnectionStore"} {
		if need[name] {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("authflow: the %s role needs %s", role, strings.Join(missing, ", "))
	}
	return &s, nil
}
