// Package dynamo stores pending authorization states and seller tokens in DynamoDB. Every
// guarantee the flow relies on is a single conditional request here, never a read followed by a
// write: a state is consumed by one conditional delete so that of concurrent callbacks exactly one
// wins, and an authorization is saved by one conditional update so that an older callback can
// never overwrite a newer authorization. Reads check expiry themselves because DynamoDB TTL
// deletes items days late. Item layouts follow the table contract in docs/contract.md and the tables of
// template.yaml.
package dynamo
