package authflow

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
)

// StateBytes is the entropy of a state: 256 bits, far beyond guessing within its lifetime.
const StateBytes = 32

// maxStateLen bounds what we accept back from a browser; a real state is 43 characters.
const maxStateLen = 128

// newState returns a fresh state value (unpadded base64url, safe in URLs and cookies).
func newState(random io.Reader) (string, error) {
	b := make([]byte, StateBytes)
	if _, err := io.ReadFull(random, b); err != nil {
		return "", fmt.Errorf("read random state: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// StateKey is the key under which a state is stored: its SHA-256, so that the table never holds
// a value that could be replayed.
func StateKey(state string) string {
	sum := sha256.Sum256([]byte(state))
	return hex.EncodeToString(sum[:])
}

// sameState compares the state of the URL with the cookie's in constant time.
func sameState(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// wellFormedState reports whether s could be a state we issued, before any storage call.
func wellFormedState(s string) bool {
	if len(s) == 0 || len(s) > maxStateLen {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}
