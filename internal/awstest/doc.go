// Package awstest runs the tests of every package against real AWS APIs served locally by
// moto_server, so that conditional writes, expression syntax, reserved words and error shapes are
// checked by a DynamoDB and a Secrets Manager that behave like the real ones instead of by mocks
// that only repeat our own assumptions. One moto_server is started lazily per test binary and
// shared; each test isolates itself by creating its own uniquely named tables and secrets, whose
// schemas are read from template.yaml (through internal/samtemplate, as the local dev stack reads
// them) so that tests cannot drift from what is deployed.
package awstest
