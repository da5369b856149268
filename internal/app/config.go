package app

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sellerauth/sellerauth/internal/amazon"
)

// Getenv reads one environment variable; os.Getenv outside tests.
type Getenv func(string) string

// flowConfig is the environment of the authorize and login functions.
type flowConfig struct {
	Consent            amazon.Consent
	DefaultMarketplace amazon.Marketplace
	StateTTL           time.Duration
	StateTable         string
}

func loadFlowConfig(getenv Getenv) (flowConfig, error) {
	var c flowConfig
	var errs []error
	c.Consent.ApplicationID = getenv("APPLICATION_ID")
	if err := amazon.CheckApplicationID(c.Consent.ApplicationID); err != nil {
		errs = append(errs, fmt.Errorf("APPLICATION_ID: %w", err))
	}
	switch v := getenv("APP_DRAFT"); v {
	case "true":
		c.Consent.Draft = true
	case "", "false":
	default:
		errs = append(errs, fmt.Errorf("APP_DRAFT must be true or false, not %q", v))
	}
	if v := getenv("REDIRECT_URI"); v != "" {
		if err := CheckRedirectURI(v); err != nil {
			errs = append(errs, fmt.Errorf("REDIRECT_URI: %w", err))
		}
		c.Consent.RedirectURI = v
	}
	if v := getenv("AMAZON_CONSENT_ORIGIN"); v != "" {
		if err := amazon.CheckOriginOverride(v); err != nil {
			errs = append(errs, fmt.Errorf("AMAZON_CONSENT_ORIGIN must be an origin such as http://127.0.0.1:9000: %w", err))
		}
		c.Consent.OriginOverride = strings.TrimSuffix(v, "/")
	}
	mp := getenv("DEFAULT_MARKETPLACE")
	if mp == "" {
		mp = "US"
	}
	m, ok := amazon.LookupMarketplace(mp)
	if !ok {
		errs = append(errs, fmt.Errorf("DEFAULT_MARKETPLACE: unknown marketplace %q", mp))
	}
	c.DefaultMarketplace = m
	c.StateTTL = 900 * time.Second
	if v := getenv("STATE_TTL_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 60 || n > 3600 {
			errs = append(errs, fmt.Errorf("STATE_TTL_SECONDS must be a whole number from 60 to 3600, not %q", v))
		}
		c.StateTTL = time.Duration(n) * time.Second
	}
	c.StateTable = getenv("STATE_TABLE_NAME")
	if c.StateTable == "" {
		errs = append(errs, errors.New("STATE_TABLE_NAME is required"))
	}
	return c, errors.Join(errs...)
}

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
