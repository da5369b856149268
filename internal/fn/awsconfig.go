package fn

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// LoadAWSConfig builds the AWS configuration from the environment Lambda gives a function, without
// calling the network: the region (AWS_REGION, else AWS_DEFAULT_REGION), the execution role's
// credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), the SDK's standard
// endpoint settings (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE> such as AWS_ENDPOINT_URL_DYNAMODB
// and AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS) and AWS_MAX_ATTEMPTS.
//
// It replaces config.LoadDefaultConfig, which links the SSO, SSO OIDC, STS, sign-in and IMDS
// clients (for shared config files and credential chains a Lambda never uses) and whose package
// initialisation made every cold start measurably slower (make bench-coldstart).
func LoadAWSConfig(ctx context.Context) (aws.Config, error) {
	return awsConfigFromEnv(os.Getenv)
}

func awsConfigFromEnv(getenv Getenv) (aws.Config, error) {
	var errs []error
	cfg := aws.Config{Region: getenv("AWS_REGION")}
	if cfg.Region == "" {
		cfg.Region = getenv("AWS_DEFAULT_REGION")
	}
	if cfg.Region == "" {
		errs = append(errs, errors.New("AWS_REGION is not set"))
	}
	creds := aws.Credentials{
		AccessKeyID:     getenv("AWS_ACCESS_KEY_ID"),
		SecretAccessKey: getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken:    getenv("AWS_SESSION_TOKEN"),
		Source:          "EnvironmentVariables",
	}
	if creds.AccessKeyID == "" || creds.SecretAccessKey == "" {
		errs = append(errs, errors.New("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set (Lambda sets them from the execution role)"))
	}
	cfg.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return creds, nil })
	ignore := false
	if v := getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS must be true or false, not %q", v))
		}
		ignore = b
	}
	if v := getenv("AWS_ENDPOINT_URL"); v != "" && !ignore {
		cfg.BaseEndpoint = aws.String(v)
	}
	cfg.ConfigSources = []any{envEndpoints{getenv: getenv, ignore: ignore}}
	if v := getenv("AWS_MAX_ATTEMPTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("AWS_MAX_ATTEMPTS must be a whole number of at least 1, not %q", v))
		}
		cfg.RetryMaxAttempts = n
	}
	if err := errors.Join(errs...); err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	return cfg, nil
}

// envEndpoints gives each service client its AWS_ENDPOINT_URL_<SERVICE>, as the SDK's environment
// configuration does: the clients look for these two methods among aws.Config.ConfigSources.
type envEndpoints struct {
	getenv Getenv
	ignore bool
}

// GetServiceBaseEndpoint reads AWS_ENDPOINT_URL_ followed by the service's SDK ID in upper case
// with spaces as underscores ("Secrets Manager" -> AWS_ENDPOINT_URL_SECRETS_MANAGER).
func (e envEndpoints) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	if e.ignore {
		return "", false, nil
	}
	v := e.getenv("AWS_ENDPOINT_URL_" + strings.ToUpper(strings.ReplaceAll(sdkID, " ", "_")))
	return v, v != "", nil
}

// GetIgnoreConfiguredEndpoints reports AWS_IGNORE_CONFIGURED_ENDPOINT_URLS.
func (e envEndpoints) GetIgnoreConfiguredEndpoints(context.Context) (bool, bool, error) {
	return e.ignore, e.ignore, nil
}
