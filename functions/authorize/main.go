// Command authorize is the authorize function's Lambda entry point; internal/fn/authorize wires it
// (docs/how-it-works.md maps every function).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sellerauth/sellerauth/internal/fn"
	"github.com/sellerauth/sellerauth/internal/fn/authorize"
)

func main() {
	r := fn.Start()
	h, err := authorize.New(r)
	if err != nil {
		r.Fail(err)
	}
	lambda.StartHandlerFunc(h.Handle)
}
