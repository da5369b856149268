// Package fn is where every Lambda function starts: Start builds the JSON logger that adds
// Lambda's request ID to each line and the AWS configuration from the environment, without a
// network call, and the helpers here read and check the environment of docs/contract.md. Each
// function is wired completely in its own subpackage, internal/fn/<function> (authorize, login,
// callback, connectapi, events, refresh, rotatesecret), whose New takes a Runtime and returns the
// handler that functions/<function>/main.go starts. A function links only the clients its
// subpackage uses, because every linked package's initialisation runs on each cold start
// (docs/coldstart.md). The tests of this package drive exactly that wiring against moto_server
// and the Amazon sandbox.
package fn
