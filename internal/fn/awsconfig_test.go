package fn

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// TestAWSConfigFromEnv checks that the hand-made configuration keeps the SDK's standard
// environment settings: region, credentials, the global and the per-service endpoint URLs.
func TestAWSConfigFromEnv(t *testing.T) {
	env := map[string]string{
		"AWS_REGION":                       "eu-west-1",
		"AWS_ACCESS_KEY_ID":                "AKID",
		"AWS_SECRET_ACCESS_KEY":            "secret",
		"AWS_SESSION_TOKEN":                "session",
		"AWS_ENDPOINT_URL":                 "http://127.0.0.1:1000",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://127.0.0.1:2000",
	}
	cfg, err := awsConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-1" || aws.ToString(cfg.BaseEndpoint) != "http://127.0.0.1:1000" {
		t.Fatalf("region %q, base endpoint %q", cfg.Region, aws.ToString(cfg.BaseEndpoint))
	}
	c, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || c.AccessKeyID != "AKID" || c.SessionToken != "session" {
		t.Fatalf("credentials %+v, %v", c, err)
	}
	if got := aws.ToString(dynamodb.NewFromConfig(cfg).Options().BaseEndpoint); got != "http://127.0.0.1:1000" {
		t.Errorf("DynamoDB endpoint %q, want AWS_ENDPOINT_URL", got)
	}
	if got := aws.ToString(secretsmanager.NewFromConfig(cfg).Options().BaseEndpoint); got != "http://127.0.0.1:2000" {
		t.Errorf("Secrets Manager endpoint %q, want AWS_ENDPOINT_URL_SECRETS_MANAGER", got)
	}
	env["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true"
	cfg, err = awsConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BaseEndpoint != nil || secretsmanager.NewFromConfig(cfg).Options().BaseEndpoint != nil {
		t.Error("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true still set an endpoint")
	}
	if _, err := awsConfigFromEnv(func(string) string { return "" }); err == nil {
		t.Error("an empty environment gave no error")
	}
}
