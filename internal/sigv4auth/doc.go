// Package sigv4auth verifies AWS Signature Version 4 (SigV4) signed requests the way API
// Gateway's AWS_IAM authorizer does, so that the local dev gateway can protect the connect API
// routes exactly as the deployed stack does instead of leaving them open. There is no IAM here:
// a Verifier looks access keys up in a table the dev stack provides and, when the signature is
// good, returns the Identity that API Gateway would put into requestContext.authorizer.iam.
//
// The canonical request is computed from the request itself, per the SigV4 specification, and
// not by re-signing a clone with the SDK signer: the SDK chooses which headers to sign, and a
// verifier must sign exactly the headers the caller listed in SignedHeaders, no more and no
// fewer. The tests check the result against requests signed by the SDK's v4.Signer, which is
// what the connect client and every AWS SDK caller use.
//
// Only header-based signatures (the Authorization header) with HMAC-SHA256 are accepted, which
// is what callers of an HTTP API use; presigned URLs and SigV4a are refused. Session tokens are
// required to be signed when present but are not validated, since there is no STS to ask.
package sigv4auth
