// Command sellerauth is the operator's tool for the token table: show a connection and restore
// the refresh token an authorization replaced (docs/operations.md). It never prints a token.
//
//	go run ./cmd/sellerauth -table TABLE restore A1SELLER eu
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/sellerauth/sellerauth/internal/cli"
	"github.com/sellerauth/sellerauth/internal/dynamo"
)

func main() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sellerauth: AWS configuration:", err)
		os.Exit(1)
	}
	db := dynamodb.NewFromConfig(cfg)
	os.Exit(cli.Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, func(table string) cli.Store {
		return &dynamo.TokenStore{Client: db, Table: table}
	}))
}
