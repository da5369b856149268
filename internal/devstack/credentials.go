package devstack

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/sellerauth/sellerauth/internal/sigv4auth"
)

// AccountID is the local AWS account: the API's owner in every event (requestContext.accountId),
// AWS::AccountId in the template, and the account of the dev caller of the backend API, which
// is in the same account as the API, as an IAM-authorized HTTP API (which has no resource policy)
// requires.
const AccountID = "123456789012"

// The dev credentials of the backend API (the routes behind the IAM authorizer): the local
// gateway verifies SigV4 signatures against this one key, as API Gateway does against IAM. They
// are fixed and public, like moto's: nothing outside the local stack accepts them, so they are
// printed and may be pasted into curl.
const (
	DevAccessKeyID     = "AKIDSELLERAUTHDEV"
	DevSecretAccessKey = "sellerauth-dev-secret-access-key"
	// DevUserARN is the IAM user the demo app's backend signs as (requestContext.authorizer.iam.userArn).
	DevUserARN = "arn:aws:iam::" + AccountID + ":user/demo-backend"
	// DevUserID is that user's unique ID (userId and callerId, as API Gateway reports an IAM user).
	DevUserID = "AIDASELLERAUTHDEVDEMO"
	// DevPrincipalOrgID is the AWS Organizations ID of the dev account.
	DevPrincipalOrgID = "o-sellerauthdev"
)

// DevIdentity is who signs with the dev credentials, as requestContext.authorizer.iam shows it.
func DevIdentity() sigv4auth.Identity {
	return sigv4auth.Identity{
		AccessKeyID:    DevAccessKeyID,
		AccountID:      AccountID,
		UserARN:        DevUserARN,
		UserID:         DevUserID,
		CallerID:       DevUserID,
		PrincipalOrgID: DevPrincipalOrgID,
	}
}

// DevAWSConfig is an aws.Config that signs with the dev credentials, for a client of the backend
// API (the connect package) such as the demo app's backend.
func DevAWSConfig() aws.Config {
	return aws.Config{
		Region:      Region,
		Credentials: credentials.NewStaticCredentialsProvider(DevAccessKeyID, DevSecretAccessKey, ""),
	}
}

// devVerifier is the local IAM authorizer: it knows the dev access key and nothing else.
func devVerifier() *sigv4auth.Verifier {
	return &sigv4auth.Verifier{
		Region:  Region,
		Service: sigv4auth.DefaultService,
		Lookup: func(accessKeyID string) (string, sigv4auth.Identity, bool) {
			if accessKeyID != DevAccessKeyID {
				return "", sigv4auth.Identity{}, false
			}
			return DevSecretAccessKey, DevIdentity(), true
		},
	}
}
