// Command connect-api is the connect-api function's Lambda entry point; internal/fn/connectapi wires it
// (docs/how-it-works.md maps every function).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sellerauth/sellerauth/internal/fn"
	"github.com/sellerauth/sellerauth/internal/fn/connectapi"
)

func main() {
	r := fn.Start()
	h, err := connectapi.New(r)
	if err != nil {
		r.Fail(err)
	}
	lambda.StartHandlerFunc(h.Handle)
}
