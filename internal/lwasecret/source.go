package lwasecret

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sellerauth/sellerauth/internal/flight"
	"github.com/sellerauth/sellerauth/internal/lwa"
)

// SecretsAPI is the part of the Secrets Manager client the source uses; *secretsmanager.Client
// satisfies it.
type SecretsAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

var _ SecretsAPI = (*secretsmanager.Client)(nil)

// ErrInvalidSecret is returned, wrapped, when the secret does not hold the credentials in the
// expected shape, e.g. while it still has the template's empty placeholder. Only the operator can
// fix it, by filling the secret.
var ErrInvalidSecret = errors.New("LWA credentials secret is not filled in correctly")

// secretShape is what the operator must store, quoted in every ErrInvalidSecret.
const secretShape = `{"client_id":"amzn1.application-oa2-client...","client_secret":"..."}`

// Source reads the LWA client credentials from a secret and caches them.
type Source struct {
	client   SecretsAPI
	secretID string

	mu     sync.Mutex
	cached lwa.Credentials
	have   bool
	// fetches shares the fetch in progress with every caller that arrives meanwhile. There is
	// one secret, hence one key.
	fetches flight.Group[struct{}, fetched]
}

// fetched is what a fetch gives its callers.
type fetched struct {
	creds lwa.Credentials
	// read says creds were read from the secret; otherwise the fetch found them in the cache
	// (filled by a fetch that ended just before it began) and they may not be what a caller
	// waiting for it wants.
	read bool
}

var _ lwa.CredentialSource = (*Source)(nil)

// New returns a source for the secret (its name or ARN). It makes no call: the secret is read on
// first use.
func New(client SecretsAPI, secretID string) *Source {
	return &Source{client: client, secretID: secretID}
}

// Credentials returns the cached credentials, fetching them on first use. A failed fetch is not
// cached: the next call tries again.
func (s *Source) Credentials(ctx context.Context) (lwa.Credentials, error) {
	return s.load(ctx, func(lwa.Credentials) bool { return true })
}

// Refetch reads the secret again after LWA rejected stale, typically because the operator rotated
// the secret. When the cache already holds something other than stale, another caller has
// refetched in the meantime and that value is returned without a call, so a burst of rejected
// requests costs one read. On failure the cache keeps its previous value.
func (s *Source) Refetch(ctx context.Context, stale lwa.Credentials) (lwa.Credentials, error) {
	return s.load(ctx, func(cached lwa.Credentials) bool { return cached != stale })
}

// load returns the cached credentials if useCached accepts them; otherwise it joins the fetch in
// progress or starts one. Refetch joins a fetch in progress too: it reads the secret after
// whatever the cache held, so only a rotation within those few milliseconds could be missed, and
// joining is what keeps a burst of rejected requests to one read.
func (s *Source) load(ctx context.Context, useCached func(lwa.Credentials) bool) (lwa.Credentials, error) {
	for {
		if c, ok := s.fromCache(useCached); ok {
			return c, nil
		}
		f, err := s.fetches.Do(ctx, struct{}{}, func(ctx context.Context) (fetched, error) {
			// A fetch that ended between the look at the cache and Do filled it: no second read.
			if c, ok := s.fromCache(useCached); ok {
				return fetched{creds: c}, nil
			}
			c, err := s.fetch(ctx)
			if err != nil {
				return fetched{}, err // the cache keeps its previous value
			}
			s.mu.Lock()
			s.cached, s.have = c, true
			s.mu.Unlock()
			return fetched{creds: c, read: true}, nil
		})
		var panicked *flight.PanicError
		switch {
		case err != nil && (err == ctx.Err() || errors.As(err, &panicked)):
			// The errors of the fetch name the secret already; these come from the waiting.
			return lwa.Credentials{}, fmt.Errorf("read LWA credentials from secret %s: %w", s.secretID, err)
		case err != nil:
			return lwa.Credentials{}, err
		case !f.read && !useCached(f.creds):
			// This caller waited for a fetch that served the cache it had refused: look again.
			continue
		}
		return f.creds, nil
	}
}

// fromCache returns the cached credentials if there are some and useCached accepts them.
func (s *Source) fromCache(useCached func(lwa.Credentials) bool) (lwa.Credentials, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.have && useCached(s.cached) {
		return s.cached, true
	}
	return lwa.Credentials{}, false
}

func (s *Source) fetch(ctx context.Context) (lwa.Credentials, error) {
	if s.secretID == "" {
		return lwa.Credentials{}, errors.New("read LWA credentials: no secret ID configured")
	}
	out, err := s.client.GetSecretValue(ctx, currentVersion(s.secretID))
	if err != nil {
		return lwa.Credentials{}, fmt.Errorf("read LWA credentials from secret %s: %w", s.secretID, err)
	}
	if out.SecretString == nil {
		return lwa.Credentials{}, s.invalid("it has no string value")
	}
	return s.parse(*out.SecretString)
}

// currentVersion asks for the version labelled AWSCURRENT. That is Secrets Manager's default; it
// is named because moto (the tests' Secrets Manager) answers a request without a label with the
// version last put as current, not with the one Writer's UpdateSecretVersionStage made current.
func currentVersion(secretID string) *secretsmanager.GetSecretValueInput {
	return &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretID), VersionStage: aws.String(currentStage)}
}

// parse never puts the secret, or the JSON decoder's message (which quotes the offending
// character), into its errors.
func (s *Source) parse(secret string) (lwa.Credentials, error) {
	var v struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := json.Unmarshal([]byte(secret), &v); err != nil {
		return lwa.Credentials{}, s.invalid("it is not a JSON object with string fields client_id and client_secret")
	}
	// Pasted values often carry a stray newline or space, which LWA would reject as invalid_client.
	c := lwa.Credentials{ClientID: strings.TrimSpace(v.ClientID), ClientSecret: strings.TrimSpace(v.ClientSecret)}
	var missing []string
	if c.ClientID == "" {
		missing = append(missing, "client_id")
	}
	if c.ClientSecret == "" {
		missing = append(missing, "client_secret")
	}
	if len(missing) > 0 {
		verb := " is"
		if len(missing) > 1 {
			verb = " are"
		}
		return lwa.Credentials{}, s.invalid(strings.Join(missing, " and ") + verb + " empty or missing")
	}
	return c, nil
}

func (s *Source) invalid(why string) error {
	return fmt.Errorf("%w: secret %s: %s; fill it with %s", ErrInvalidSecret, s.secretID, why, secretShape)
}
