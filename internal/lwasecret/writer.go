package lwasecret

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/sellerauth/sellerauth/internal/lwa"
)

// WriteAPI is the part of the Secrets Manager client a Writer uses; *secretsmanager.Client
// satisfies it.
type WriteAPI interface {
	SecretsAPI
	PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	UpdateSecretVersionStage(ctx context.Context, in *secretsmanager.UpdateSecretVersionStageInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error)
}

var _ WriteAPI = (*secretsmanager.Client)(nil)

// Writer stores a new client secret in the secret, for the rotation function. Only that function
// may write the secret; everything else reads it through a Source.
type Writer struct {
	client WriteAPI
	read   *Source // its fetch and errors, never its cache: each call reads the secret as it is now
}

// NewWriter returns a Writer of the secret (its name or ARN). It makes no call.
func NewWriter(client WriteAPI, secretID string) *Writer {
	return &Writer{client: client, read: New(client, secretID)}
}

// Current reads the credentials stored now.
func (w *Writer) Current(ctx context.Context) (lwa.Credentials, error) {
	return w.read.fetch(ctx)
}

// expiresField is where the Writer keeps the stored secret's expiry, so that an older
// notification delivered late cannot replace a newer secret. Source ignores it.
const expiresField = "client_secret_expires_at"

// NewVersionStage labels the version a Writer has written and not yet made current. It is not
// AWSPENDING, which Secrets Manager reads as "a managed rotation is in progress" (RotateSecret
// refuses while AWSPENDING sits on a version that is not current). Putting a version with the
// label moves it from the previous one, so at most one version holds it.
const NewVersionStage = "SELLERAUTH_NEW"

// currentStage is the label GetSecretValue reads by default.
const currentStage = "AWSCURRENT"

// swapAttempts bounds the read, put and swap rounds of one ReplaceSecret. Each lost round means
// another writer made its version current in between; with two notifications at a time, the
// second round settles it.
const swapAttempts = 5

// ErrNoExpiry is returned, wrapped, by ReplaceSecret for a secret of unknown expiry: storing it
// could replace a newer secret, and it would leave nothing to compare the next notification with.
var ErrNoExpiry = errors.New("the new client secret's expiry is unknown; not stored")

// ReplaceSecret stores secret as client_secret and its expiry as client_secret_expires_at, and
// leaves client_id, and any other field the operator keeps in the secret, as they are. It stores
// nothing and returns false when the stored secret expires no earlier than expiresAt, or when
// requestToken (32 to 64 characters, e.g. a notification's ID) was used for a version with
// another value: Secrets Manager refuses a reused token with another value. A zero expiresAt
// stores nothing and returns ErrNoExpiry. The secret never appears in an error.
//
// The write is a compare-and-swap, so that two notifications handled at once cannot both pass
// the expiry check and leave the older secret current: the new version is put without AWSCURRENT
// (staged as NewVersionStage), then UpdateSecretVersionStage moves AWSCURRENT to it from the
// version that was read, which Secrets Manager refuses when AWSCURRENT is no longer there.
// After a refusal the secret is read again and the expiry compared again.
func (w *Writer) ReplaceSecret(ctx context.Context, secret string, expiresAt time.Time, requestToken string) (bool, error) {
	if expiresAt.IsZero() {
		return false, fmt.Errorf("replace client secret in %s: %w", w.read.secretID, ErrNoExpiry)
	}
	var lost struct {
		read, ours string // the version read and the version put by the round that lost its swap
		err        error
	}
	for round := 1; ; round++ {
		r, err := w.readVersion(ctx)
		if err != nil {
			return false, err
		}
		if lost.err != nil {
			switch r.versionID {
			case lost.ours:
				// The swap was made and its answer lost (the SDK's retry of a swap that had
				// succeeded is refused).
				return true, nil
			case lost.read:
				// AWSCURRENT did not move: the refusal was not another writer's.
				return false, fmt.Errorf("make the new client secret current in %s: %w", w.read.secretID, lost.err)
			}
			if round > swapAttempts {
				return false, fmt.Errorf("make the new client secret current in %s: other writers changed the secret %d times meanwhile: %w",
					w.read.secretID, swapAttempts, lost.err)
			}
		}
		var stored string
		if json.Unmarshal(r.fields[expiresField], &stored) == nil {
			if t, err := time.Parse(time.RFC3339Nano, stored); err == nil && !t.Before(expiresAt) {
				return false, nil
			}
		}
		version, ok, err := w.put(ctx, r.fields, secret, expiresAt, requestToken)
		if err != nil || !ok {
			return false, err
		}
		_, err = w.client.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
			SecretId:            aws.String(w.read.secretID),
			VersionStage:        aws.String(currentStage),
			MoveToVersionId:     aws.String(version),
			RemoveFromVersionId: aws.String(r.versionID),
		})
		if err == nil {
			return true, nil
		}
		if ctx.Err() != nil {
			return false, fmt.Errorf("make the new client secret current in %s: %w", w.read.secretID, err)
		}
		lost.read, lost.ours, lost.err = r.versionID, version, err
	}
}

// readResult is the current version of the secret: its ID and its JSON fields.
type readResult struct {
	versionID string
	fields    map[string]json.RawMessage
}

func (w *Writer) readVersion(ctx context.Context) (readResult, error) {
	s := w.read
	out, err := w.client.GetSecretValue(ctx, currentVersion(s.secretID))
	if err != nil {
		return readResult{}, fmt.Errorf("read secret %s before replacing the client secret: %w", s.secretID, err)
	}
	r := readResult{versionID: aws.ToString(out.VersionId), fields: map[string]json.RawMessage{}}
	if out.SecretString == nil || json.Unmarshal([]byte(*out.SecretString), &r.fields) != nil {
		return readResult{}, s.invalid("it is not a JSON object")
	}
	if r.versionID == "" {
		return readResult{}, fmt.Errorf("read secret %s before replacing the client secret: no version ID", s.secretID)
	}
	return r, nil
}

// put writes fields with the new secret and its expiry as a version that is not current yet and
// returns its ID; ok is false when requestToken names a version with another value.
func (w *Writer) put(ctx context.Context, fields map[string]json.RawMessage, secret string, expiresAt time.Time, requestToken string) (version string, ok bool, err error) {
	s := w.read
	fields = maps.Clone(fields)
	fields[expiresField], _ = json.Marshal(expiresAt.UTC().Format(time.RFC3339))
	if fields["client_secret"], err = json.Marshal(secret); err != nil {
		return "", false, fmt.Errorf("replace client secret: encode: %w", err)
	}
	updated, err := json.Marshal(fields) // keys sorted: a round after a lost swap puts the same value
	if err != nil {
		return "", false, fmt.Errorf("replace client secret: encode: %w", err)
	}
	in := &secretsmanager.PutSecretValueInput{
		SecretId:      aws.String(s.secretID),
		SecretString:  aws.String(string(updated)),
		VersionStages: []string{NewVersionStage},
	}
	if n := len(requestToken); n >= 32 && n <= 64 {
		// The version's ID: a later round of this call, or the message delivered again after
		// it failed, puts the same value and gets the same version back.
		in.ClientRequestToken = aws.String(requestToken)
	}
	out, err := w.client.PutSecretValue(ctx, in)
	if err != nil {
		var exists *types.ResourceExistsException
		if errors.As(err, &exists) {
			return "", false, nil // this notification stored its secret before; a newer one came since
		}
		return "", false, fmt.Errorf("store the new client secret in %s: %w", s.secretID, err)
	}
	if aws.ToString(out.VersionId) == "" {
		return "", false, fmt.Errorf("store the new client secret in %s: no version ID in the answer", s.secretID)
	}
	return aws.ToString(out.VersionId), true, nil
}
