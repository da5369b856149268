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

// DefaultLWATokenURL is Login with Amazon's one token endpoint for every region.
const DefaultLWATokenURL = "https://api.amazon.com/auth/o2/token"

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
		if err := checkRedirectURI(v); err != nil {
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

// checkRedirectURI catches what Amazon's consent page would refuse with MD5101/MD5110 before a
// seller meets it.
func checkRedirectURI(v string) error {
	if err := amazon.CheckRedirectURI(v); err != nil {
		return err
	}
	if u, _ := url.Parse(v); u.Scheme != "https" && u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost" {
		return errors.New("must use https")
	}
	return nil
}

// callbackConfig is the environment of the callback function.
type callbackConfig struct {
	RedirectURI string
	SuccessURL  string
	StateTable  string
	TokenTable  string
	LWA         lwaConfig
}

type lwaConfig struct {
	SecretID string
	TokenURL string
}

func loadLWAConfig(getenv Getenv) (lwaConfig, error) {
	var errs []error
	c := lwaConfig{SecretID: getenv("LWA_CREDENTIALS_SECRET_ID"), TokenURL: getenv("LWA_TOKEN_URL")}
	if c.SecretID == "" {
		errs = append(errs, errors.New("LWA_CREDENTIALS_SECRET_ID is required"))
	}
	if c.TokenURL == "" {
		c.TokenURL = DefaultLWATokenURL
	}
	if u, err := url.Parse(c.TokenURL); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		errs = append(errs, errors.New("LWA_TOKEN_URL must be an absolute URL"))
	}
	return c, errors.Join(errs...)
}

func loadCallbackConfig(getenv Getenv) (callbackConfig, error) {
	var errs []error
	c := callbackConfig{
		RedirectURI: getenv("REDIRECT_URI"),
		SuccessURL:  getenv("SUCCESS_URL"),
		StateTable:  getenv("STATE_TABLE_NAME"),
		TokenTable:  getenv("TOKEN_TABLE_NAME"),
	}
	if c.RedirectURI != "" {
		if err := checkRedirectURI(c.RedirectURI); err != nil {
			errs = append(errs, fmt.Errorf("REDIRECT_URI: %w", err))
		}
	}
	if c.SuccessURL != "" {
		if u, err := url.Parse(c.SuccessURL); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			errs = append(errs, errors.New("SUCCESS_URL must be an absolute URL"))
		}
	}
	if c.StateTable == "" {
		errs = append(errs, errors.New("STATE_TABLE_NAME is required"))
	}
	if c.TokenTable == "" {
		errs = append(errs, errors.New("TOKEN_TABLE_NAME is required"))
	}
	var err error
	c.LWA, err = loadLWAConfig(getenv)
	errs = append(errs, err)
	return c, errors.Join(errs...)
}
