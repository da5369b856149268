// Package cli is the operator's command line (cmd/sellerauth): it looks at and repairs
// connections in the token table without hand-written DynamoDB calls against attribute names,
// and never prints a token. Each command is one or two calls of the same stores the functions
// use, so it keeps their rules (conditional writes, history).
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/sellerauth/sellerauth/internal/amazon"
	"github.com/sellerauth/sellerauth/internal/dynamo"
)

// Store is what the commands need of the token table; *dynamo.TokenStore is one.
type Store interface {
	Get(ctx context.Context, sellingPartnerID string, region amazon.Region) (dynamo.Item, error)
	Restore(ctx context.Context, sellingPartnerID string, region amazon.Region) (dynamo.Item, error)
}

const usage = `usage: sellerauth [-table NAME] COMMAND [ARGUMENTS]

The token table is -table, else $TOKEN_TABLE_NAME (the stack's TokenTableName output).
AWS credentials and region come from the usual AWS configuration (profile, environment).

Commands:
  show SELLING_PARTNER_ID REGION      a connection, and the refresh token it replaced (never a token)
  restore SELLING_PARTNER_ID REGION   put back the refresh token (and end user) the last
                                      authorization replaced; the current one is kept in its place
`

// Run runs one command. newStore builds the store of a table; stdout gets the result.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, newStore func(table string) Store) int {
	fs := flag.NewFlagSet("sellerauth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	table := fs.String("table", getenv("TOKEN_TABLE_NAME"), "the token table")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *table == "" || fs.NArg() != 3 {
		fs.Usage()
		return 2
	}
	seller, region := fs.Arg(1), amazon.Region(fs.Arg(2))
	if !region.Valid() {
		fmt.Fprintf(stderr, "sellerauth: region must be na, eu or fe, not %q\n", region)
		return 2
	}
	store := newStore(*table)
	var err error
	switch fs.Arg(0) {
	case "show":
		var it dynamo.Item
		if it, err = store.Get(ctx, seller, region); err == nil {
			describe(stdout, it)
		}
	case "restore":
		var it dynamo.Item
		if it, err = store.Restore(ctx, seller, region); err == nil {
			fmt.Fprintln(stdout, "restored: the replaced refresh token is back and the one it replaced is kept in its place (restore again to undo); the next refresh run checks it with Amazon")
			describe(stdout, it)
		}
	default:
		fs.Usage()
		return 2
	}
	switch {
	case errors.Is(err, dynamo.ErrNotFound):
		fmt.Fprintf(stderr, "sellerauth: no connection of %s in %s\n", seller, region)
		return 1
	case err != nil:
		fmt.Fprintln(stderr, "sellerauth:", err)
		return 1
	}
	return 0
}

// describe prints a connection without any token: whether one is there is all an operator needs.
func describe(w io.Writer, it dynamo.Item) {
	fmt.Fprintf(w, "selling_partner_id  %s\nregion              %s\naccount_type        %s\nstatus              %s\n",
		it.SellingPartnerID, it.Region, it.AccountType, it.Status)
	fmt.Fprintf(w, "end_user_id         %s\nauthorized_at       %s\nreauthorize_by      %s\nversion             %d\n",
		orNone(it.EndUserID), day(it.AuthorizedAt), day(it.ReauthorizeBy), it.Version)
	if it.PreviousRefreshToken == "" {
		fmt.Fprintln(w, "replaced            nothing kept")
		return
	}
	fmt.Fprintf(w, "replaced            a refresh token of end user %s (status %s, authorized %s), kept until %s\n",
		orNone(it.PreviousEndUserID), orNone(string(it.PreviousStatus)), day(it.PreviousAuthorizedAt), day(it.PreviousKeptUntil))
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func day(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
