// Package devstack runs the whole system on one machine, on loopback only: moto_server as AWS
// (tables from template.yaml), every function's real bootstrap under the Lambda Runtime Interface
// Emulator, a local API Gateway (HTTP API, payload 2.0) routing as template.yaml does, path
// parameters included, with the backend API's routes behind a local IAM authorizer that checks
// SigV4 signatures against fixed dev credentials (credentials.go), the refresh function on a
// shortened schedule, the functions' SQS events polled as Lambda polls a queue (queues.go), their
// DynamoDB events polled as Lambda's event source mapping reads a table's stream, with the
// template's filters and batch size (streams.go, internal/streams), the lifecycle events the
// events function puts on moto's EventBridge read back through a rule and an SQS queue
// (eventbus.go), the sandbox Amazon, and a demo app (internal/demoapp) whose users connect their
// Amazon accounts through connect sessions and see their events. cmd/devstack (make dev) and the
// end-to-end browser test start it the same way.
package devstack
