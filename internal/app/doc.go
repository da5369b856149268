// Package app is the composition root of the Lambda functions: it reads and checks the
// environment of DESIGN.md's contract, builds the AWS and Login with Amazon clients once, and
// wires the domain to its adapters. It makes no network call: secrets are fetched on first need.
// Each functions/<name>/main.go calls Start, one constructor (here, or in lwaapp for the functions
// that hold the LWA secret) and the Lambda runtime, so the tests drive exactly the wiring that runs
// in AWS.
package app
