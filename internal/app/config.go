package app

import (
	"errors"
	"net/url"

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
