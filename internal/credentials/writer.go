package credentials

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
}

var _ WriteAPI = (*secretsmanager.Client)(nil)

// Writer stores a new client secret in the secret, for the rotation function. Only that function
// may write the secret; everything else reads it through a Source.
type Writer struct {
	client WriteAPI
	read   *Source // only its fetch is used, never its cache: each call reads the secret as it is now
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

// ReplaceSecret stores secret as client_secret (and its expiry, if known) and leaves client_id,
// and any other field the operator keeps in the secret, as they are. It stores nothing and
// returns false when the stored secret expires no earlier than expiresAt, or when requestToken
// (32 to 64 characters, e.g. a notification's ID) was used for an earlier version: Secrets
// Manager refuses a reused token with another value. The secret never appears in an error.
func (w *Writer) ReplaceSecret(ctx context.Context, secret string, expiresAt time.Time, requestToken string) (bool, error) {
	s := w.read
	out, err := w.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.secretID)})
	if err != nil {
		return false, fmt.Errorf("read secret %s before replacing the client secret: %w", s.secretID, err)
	}
	fields := map[string]json.RawMessage{}
	if out.SecretString == nil || json.Unmarshal([]byte(*out.SecretString), &fields) != nil {
		return false, s.invalid("it is not a JSON object")
	}
	if !expiresAt.IsZero() {
		var stored string
		if json.Unmarshal(fields[expiresField], &stored) == nil {
			if t, err := time.Parse(time.RFC3339Nano, stored); err == nil && !t.Before(expiresAt) {
				return false, nil
			}
		}
		fields[expiresField], _ = json.Marshal(expiresAt.UTC().Format(time.RFC3339))
	} else {
		delete(fields, expiresField) // it described the secret being replaced
	}
	fields["client_secret"], err = json.Marshal(secret)
	if err != nil {
		return false, fmt.Errorf("replace client secret: encode: %w", err)
	}
	updated, err := json.Marshal(fields)
	if err != nil {
		return false, fmt.Errorf("replace client secret: encode: %w", err)
	}
	in := &secretsmanager.PutSecretValueInput{SecretId: aws.String(s.secretID), SecretString: aws.String(string(updated))}
	if n := len(requestToken); n >= 32 && n <= 64 {
		in.ClientRequestToken = aws.String(requestToken)
	}
	if _, err := w.client.PutSecretValue(ctx, in); err != nil {
		var exists *types.ResourceExistsException
		if errors.As(err, &exists) {
			return false, nil // this notification stored its secret before; a newer one came since
		}
		return false, fmt.Errorf("store the new client secret in %s: %w", s.secretID, err)
	}
	return true, nil
}
