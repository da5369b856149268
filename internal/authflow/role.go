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
	var missing []string
	need := func(name string, absent bool) {
		if absent {
			missing = append(missing, name)
		}
	}
	need("Now", s.Now == nil)
	need("Random", s.Random == nil)
	switch role {
	case RoleAuthorize, RoleLogin, RoleCallback:
		need("States", s.States == nil)
		need("Sessions", s.Sessions == nil)
		if role == RoleCallback {
			need("Tokens", s.Tokens == nil)
			need("Exchanger", s.Exchanger == nil)
		}
	case RoleBackend:
		need("Sessions", s.Sessions == nil)
		need("ConnectionStore", s.ConnectionStore == nil)
	default:
		return nil, fmt.Errorf("authflow: unknown role %q", role)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("authflow: the %s role needs %s", role, strings.Join(missing, ", "))
	}
	return &s, nil
}
