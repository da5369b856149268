// Command rotate-secret is the rotate-secret function's Lambda entry point; internal/fn/rotatesecret wires it
// (docs/how-it-works.md maps every function).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sellerauth/sellerauth/internal/fn"
	"github.com/sellerauth/sellerauth/internal/fn/rotatesecret"
)

func main() {
	r := fn.Start()
	h, err := rotatesecret.New(r)
	if err != nil {
		r.Fail(err)
	}
	lambda.StartHandlerFunc(h.Handle)
}
