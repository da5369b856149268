// Package connect is the Go client of the sellerauth connect API, through which an app's backend
// starts Amazon Selling Partner API authorizations for its own users and manages the resulting
// connections: it creates a connect session for one of its users, sends that user's browser to
// the session's connect URL, reads the session's outcome, lists the user's connections and
// disconnects a seller. The API is an API Gateway HTTP API protected by IAM, so every request is
// signed with AWS Signature Version 4 using the caller's own AWS credentials (an aws.Config, as
// for any AWS SDK client), and the IAM identity behind those credentials needs the stack's
// ConnectApiPolicyArn managed policy attached.
package connect
