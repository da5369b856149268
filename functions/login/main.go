// Command login is the login function's Lambda entry point; internal/fn/login wires it
// (docs/how-it-works.md maps every function).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sellerauth/sellerauth/internal/fn"
	"github.com/sellerauth/sellerauth/internal/fn/login"
)

func main() {
	r := fn.Start()
	h, err := login.New(r)
	if err != nil {
		r.Fail(err)
	}
	lambda.StartHandlerFunc(h.Handle)
}
