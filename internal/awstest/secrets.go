package awstest

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// CreateSecret creates a uniquely named secret holding value and returns its ARN, which is what
// the template hands the functions (!Ref of an AWS::SecretsManager::Secret). The secret is deleted
// when the test ends.
func (e *Env) CreateSecret(tb testing.TB, value string) string {
	tb.Helper()
	out, err := e.SecretsManager.CreateSecret(tb.Context(), &secretsmanager.CreateSecretInput{
		Name:         aws.String(uniqueName("sellerauth-test")),
		SecretString: aws.String(value),
	})
	if err != nil {
		tb.Fatalf("create secret: %v", err)
	}
	id := aws.ToString(out.ARN)
	tb.Cleanup(func() {
		ctx, cancel := cleanupContext()
		defer cancel()
		_, err := e.SecretsManager.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{
			SecretId:                   aws.String(id),
			ForceDeleteWithoutRecovery: aws.Bool(true),
		})
		var missing *types.ResourceNotFoundException
		if err != nil && !errors.As(err, &missing) {
			tb.Errorf("delete secret: %v", err)
		}
	})
	return id
}

// PutSecret stores a new current value in the secret, as a rotation does.
func (e *Env) PutSecret(tb testing.TB, id, value string) {
	tb.Helper()
	_, err := e.SecretsManager.PutSecretValue(tb.Context(), &secretsmanager.PutSecretValueInput{
		SecretId:     aws.String(id),
		SecretString: aws.String(value),
	})
	if err != nil {
		tb.Fatalf("put secret value: %v", err)
	}
}
