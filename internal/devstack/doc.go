// Package devstack runs the whole system on one machine, on loopback only: moto_server as AWS
// (tables from template.yaml), every function's real bootstrap under the Lambda Runtime Interface
// Emulator, a local API Gateway (HTTP API, payload 2.0) routing as template.yaml does, the
// refresh function on a shortened schedule, and the sandbox Amazon. cmd/devstack (make dev) and the
// end-to-end browser test start it the same way.
package devstack
