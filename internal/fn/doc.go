// Package app is the composition root of the Lambda functions: it reads and checks the
// environment of the contract in docs/contract.md, builds the AWS and Login with Amazon clients once, and
// wires the domain to its adapters. It makes no network call: secrets are fetched on first need.
// Each functions/<name>/main.go calls Start, one constructor (flowapp for authorize and login,
// lwaapp for callback and refresh, rotateapp for rotate-secret: a function links only the clients
// it uses) and the Lambda runtime, so the tests drive exactly the wiring that runs in AWS.
package fn
