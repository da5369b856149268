package httpapi

import (
	"strconv"
	"strings"
	"time"
)

// StateCookieName binds a state to the browser that started it. The __Host- prefix makes browsers
// refuse the cookie unless it is Secure, host-only and Path=/, so a sibling subdomain cannot plant one.
const StateCookieName = "__Host-spapi_oauth_state"

// stateCookie sets the state for ttl. SameSite=Lax still sends it on Amazon's top-level GET
// redirects to /login and /callback, and withholds it from cross-site subrequests.
func stateCookie(value string, ttl time.Duration) string {
	return StateCookieName + "=" + value + "; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=" +
		strconv.Itoa(int(ttl/time.Second))
}

// clearStateCookie removes the state cookie; the callback sends it on every outcome.
func clearStateCookie() string {
	return StateCookieName + "=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0"
}

// readStateCookie finds the state cookie in payload 2.0's cookies array. Two cookies of that
// name mean someone planted one: none is trusted.
func readStateCookie(cookies []string) string {
	var found string
	n := 0
	for _, c := range cookies {
		for part := range strings.SplitSeq(c, ";") {
			name, value, ok := strings.Cut(strings.TrimSpace(part), "=")
			if ok && name == StateCookieName {
				found = value
				n++
			}
		}
	}
	if n != 1 {
		return ""
	}
	return found
}
