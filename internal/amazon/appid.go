package amazon

import (
	"errors"
	"fmt"
	"strings"
)

// The prefixes of an SP-API application ID. Older apps have the sellerapps form.
const (
	solutionPrefix   = "amzn1.sp.solution."
	sellerAppsPrefix = "amzn1.sellerapps.app."
)

// The prefixes of the two LWA credentials that people paste where the application ID belongs.
const (
	lwaClientIDPrefix     = "amzn1.application-oa2-client."
	lwaClientSecretPrefix = "amzn1.oa2-cs."
)

// CheckApplicationID validates the SP-API application ID at start-up. It must start with
// "amzn1.sp.solution." or "amzn1.sellerapps.app." and have something after. An LWA client ID
// ("amzn1.application-oa2-client.…") is refused with a message that names the mistake, because it
// is the most common cause of Amazon's error MD1000 and Amazon's page does not say so. The
// message never repeats the value: a pasted client secret must not reach a log line.
func CheckApplicationID(id string) error {
	switch {
	case id == "":
		return errors.New("application ID is empty: set APPLICATION_ID to the SP-API application ID (amzn1.sp.solution.…) from Solution Provider Portal")
	case hasPrefixFold(id, lwaClientIDPrefix):
		return fmt.Errorf("application ID starts with %q, so it is the LWA client ID: that belongs in the Secrets Manager secret (client_id); "+
			"the consent URL needs the SP-API application ID (amzn1.sp.solution.…), and an LWA client ID there makes Amazon show error MD1000", lwaClientIDPrefix)
	case hasPrefixFold(id, lwaClientSecretPrefix):
		return fmt.Errorf("application ID starts with %q, so it is the LWA client secret: move it to the Secrets Manager secret (client_secret) "+
			"and rotate it, since it may have been exposed in configuration; the consent URL needs the SP-API application ID (amzn1.sp.solution.…)", lwaClientSecretPrefix)
	}
	var rest string
	switch {
	case strings.HasPrefix(id, solutionPrefix):
		rest = id[len(solutionPrefix):]
	case strings.HasPrefix(id, sellerAppsPrefix):
		rest = id[len(sellerAppsPrefix):]
	default:
		return fmt.Errorf("application ID does not start with %q or %q: use the SP-API application ID from Solution Provider Portal", solutionPrefix, sellerAppsPrefix)
	}
	if rest == "" {
		return errors.New("application ID has nothing after its prefix")
	}
	for i := 0; i < len(rest); i++ {
		// Application IDs are UUID-like; anything else is most often a stray space or newline
		// from copy and paste, which would reach Amazon escaped and fail with MD1000.
		if c := rest[i]; !(c == '.' || c == '-' || c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return errors.New("application ID contains a character other than letters, digits, '.', '-' and '_' (a stray space or newline?)")
		}
	}
	return nil
}

// hasPrefixFold reports whether s starts with prefix, ignoring ASCII case, so that an upper-case
// paste of an LWA credential still gets the helpful message.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && equalFoldASCII(s[:len(prefix)], prefix)
}
