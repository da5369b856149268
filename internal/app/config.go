package app

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/sellerauth/sellerauth/internal/amazon"
)

// Getenv reads one environment variable; os.Getenv outside tests.
type Getenv func(string) string

// CheckRedirectURI catches what Amazon's consent page would refuse with MD5101/MD5110 before a
// seller meets it.
func CheckRedirectURI(v string) error {
	if err := amazon.CheckRedirectURI(v); err != nil {
		return err
	}
	if u, _ := url.Parse(v); u.Scheme != "https" && u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost" {
		return errors.New("must use https")
	}
	return nil
}

// Bool reads a "true"/"false" variable; empty is false.
func Bool(getenv Getenv, name string) (bool, error) {
	switch v := getenv(name); v {
	case "true":
		return true, nil
	case "", "false":
		return false, nil
	default:
		return false, fmt.Errorf("%s must be true or false, not %q", name, v)
	}
}

// Int reads a whole number within [min, max]; empty is def.
func Int(getenv Getenv, name string, def, min, max int) (int, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		return def, fmt.Errorf("%s must be a whole number from %d to %d, not %q", name, min, max, v)
	}
	return n, nil
}
