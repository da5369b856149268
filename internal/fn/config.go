package fn

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

// ConsentOriginOverride reads the optional AMAZON_CONSENT_ORIGIN (the sandbox's stand-in for every
// Seller and Vendor Central origin).
func ConsentOriginOverride(getenv Getenv) (string, error) {
	v := getenv("AMAZON_CONSENT_ORIGIN")
	if v == "" {
		return "", nil
	}
	if err := amazon.CheckOriginOverride(v); err != nil {
		return "", fmt.Errorf("AMAZON_CONSENT_ORIGIN must be an origin such as http://127.0.0.1:9000: %w", err)
	}
	return strings.TrimSuffix(v, "/"), nil
}

// DefaultMarketplace reads DEFAULT_MARKETPLACE (US when empty).
func DefaultMarketplace(getenv Getenv) (amazon.Marketplace, error) {
	mp := getenv("DEFAULT_MARKETPLACE")
	if mp == "" {
		mp = "US"
	}
	m, ok := amazon.LookupMarketplace(mp)
	if !ok {
		return m, fmt.Errorf("DEFAULT_MARKETPLACE: unknown marketplace %q", mp)
	}
	return m, nil
}

// FlowConfig is the environment of the authorize and login functions.
type FlowConfig struct {
	Consent            amazon.Consent
	DefaultMarketplace amazon.Marketplace
	StateTTL           time.Duration
	StateTable         string
	SessionTable       string
	Anonymous          bool
	AppSignInURL       string
}

// LoadFlowConfig reads and checks FlowConfig; the error names every variable at fault.
func LoadFlowConfig(getenv Getenv) (FlowConfig, error) {
	var c FlowConfig
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
		if err := amazon.CheckRedirectURI(v); err != nil {
			errs = append(errs, fmt.Errorf("REDIRECT_URI: %w", err))
		}
		c.Consent.RedirectURI = v
	}
	var err error
	c.Consent.OriginOverride, err = ConsentOriginOverride(getenv)
	errs = append(errs, err)
	m, err := DefaultMarketplace(getenv)
	errs = append(errs, err)
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
	c.SessionTable = getenv("SESSION_TABLE_NAME")
	if c.SessionTable == "" {
		errs = append(errs, errors.New("SESSION_TABLE_NAME is required"))
	}
	c.Anonymous, err = Bool(getenv, "ANONYMOUS_AUTHORIZATIONS")
	errs = append(errs, err)
	if v := getenv("APP_SIGN_IN_URL"); v != "" {
		if u, err := url.Parse(v); err != nil || u.Host == "" || u.Fragment != "" || (u.Scheme != "https" && u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost") {
			errs = append(errs, errors.New("APP_SIGN_IN_URL must be an absolute https URL without a fragment"))
		}
		c.AppSignInURL = v
	}
	return c, errors.Join(errs...)
}
