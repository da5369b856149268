// Package connect is the Go client of the sellerauth connect API, with which an app's backend
// connects its own users' Amazon seller accounts to the app and manages those connections.
//
// A backend creates a connect session for one of its users ([Client.CreateSession]), sends that
// user's browser to the session's ConnectURL, where the seller authorizes the app at Amazon, and
// reads the outcome ([Client.Session]). It lists a user's connections ([Client.Connections]) and
// disconnects a seller ([Client.Disconnect]). The API never returns a token: other Lambdas read
// access tokens with package [github.com/sellerauth/sellerauth/tokens], and package
// [github.com/sellerauth/sellerauth/events] describes the events that report every change.
//
// The API is an API Gateway HTTP API protected by IAM, so every request is signed with AWS
// Signature Version 4 using the caller's own AWS credentials (an aws.Config, as for any AWS SDK
// client), and the IAM identity behind those credentials needs the stack's ConnectApiPolicyArn
// managed policy attached.
//
// The routes and their JSON are in docs/contract.md ("The app's backend API"); how sessions
// work, what their outcomes mean and why they are built this way, in docs/connections.md.
package connect
