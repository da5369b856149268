// Command callback is the callback function's Lambda entry point; internal/fn/callback wires it
// (docs/how-it-works.md maps every function).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sellerauth/sellerauth/internal/fn"
	"github.com/sellerauth/sellerauth/internal/fn/callback"
)

func main() {
	r := fn.Start()
	h, err := callback.New(r)
	if err != nil {
		r.Fail(err)
	}
	lambda.StartHandlerFunc(h.Handle)
}
