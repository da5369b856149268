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

	mu       sync.Mutex
	cached   lwa.Credentials
	have     bool
	inflight *fetch // the fetch in progress, shared by every caller that arrives meanwhile
}

// fetch is one GetSecretValue whose result several callers wait for.
type fetch struct {
	done  chan struct{} // closed when the fields below are set
	creds lwa.Credentials
	err   error
	// abandoned says the fetch failed because its own caller's context ended: the callers that
	// were merely waiting try again instead of inheriting an error that was not about them.
	abandoned bool
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
		s.mu.Lock()
		if s.have && useCached(s.cached) {
			c := s.cached
			s.mu.Unlock()
			return c, nil
		}
		f := s.inflight
		if f == nil {
			f = &fetch{done: make(chan struct{})}
			s.inflight = f
			s.mu.Unlock()
			s.run(ctx, f)
			return f.creds, f.err
		}
		s.mu.Unlock()

		select {
		case <-ctx.Done():
			return lwa.Credentials{}, fmt.Errorf("read LWA credentials from secret %s: %w", s.secretID, ctx.Err())
		case <-f.done:
		}
		if !f.abandoned {
			return f.creds, f.err
		}
	}
}

// run performs f on behalf of every caller waiting for it.
func (s *Source) run(ctx context.Context, f *fetch) {
	f.creds, f.err = s.fetch(ctx)
	f.abandoned = f.err != nil && ctx.Err() != nil
	s.mu.Lock()
	s.inflight = nil
	if f.err == nil {
		s.cached, s.have = f.creds, true
	}
	s.mu.Unlock()
	close(f.done)
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
