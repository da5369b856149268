// Command sellerauth is the operator's tool (docs/operations.md): it finds the stack's table,
// secret, topic and functions from its CloudFormation outputs, lists, shows, disconnects and
// restores connections, runs the refresh now and checks the set-up. It never prints a token.
//
//	go run ./cmd/sellerauth -stack sellerauth connections -status reauthorization_required
//	go run ./cmd/sellerauth -stack sellerauth restore A1SELLER eu
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/sellerauth/sellerauth/internal/cli"
)

func main() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sellerauth: AWS configuration:", err)
		os.Exit(1)
	}
	os.Exit(cli.Run(ctx, os.Args[1:], cli.Env{
		Clients: cli.Clients{
			DynamoDB:       dynamodb.NewFromConfig(cfg),
			CloudFormation: cloudformation.NewFromConfig(cfg),
			Lambda:         lambda.NewFromConfig(cfg),
			Secrets:        secretsmanager.NewFromConfig(cfg),
			SNS:            sns.NewFromConfig(cfg),
		},
		Getenv: os.Getenv,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		Now:    time.Now,
	}))
}
