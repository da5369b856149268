package authflow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sellerauth/sellerauth/internal/amazon"
)

// Connection is one seller's authorization in one region as the app's backend sees it: never a
// token.
type Connection struct {
	SellingPartnerID string
	Region           amazon.Region
	AccountType      amazon.AccountType
	Status           string // active or reauthorization_required
	EndUserID        string
	AuthorizedAt     time.Time
	ReauthorizeBy    time.Time
}

// ConnectionStore lists and removes connections.
type ConnectionStore interface {
	// Connections lists an end user's connections.
	Connections(ctx context.Context, endUserID string) ([]Connection, error)
	// Disconnect deletes a connection and every token it holds. With endUserID != "" it deletes
	// only a connection of that end user (ErrConnectedToAnotherUser otherwise).
	// ErrConnectionNotFound when there is none.
	Disconnect(ctx context.Context, sellingPartnerID string, region amazon.Region, endUserID string) error
}

// ErrConnectionNotFound: no connection for that seller and region.
var ErrConnectionNotFound = errors.New("connection not found")

// Connections lists the connections of one of the app's users.
func (s *Service) Connections(ctx context.Context, endUserID string) ([]Connection, error) {
	if !ValidEndUserID(endUserID) {
		return nil, &FieldError{"end_user_id", "must be 1 to 128 printable ASCII characters"}
	}
	out, err := s.ConnectionStore.Connections(ctx, endUserID)
	if err != nil {
		return nil, fmt.Errorf("%w: list connections: %w", ErrStorage, err)
	}
	return out, nil
}

// Disconnect removes a seller's connection in a region, for good: the tokens are deleted, none
// is kept. endUserID, when given, guards against removing another user's connection.
func (s *Service) Disconnect(ctx context.Context, sellingPartnerID, region, endUserID string) error {
	switch {
	case !validSellingPartnerID(sellingPartnerID):
		return &FieldError{"selling_partner_id", "is not a selling partner ID"}
	case !amazon.Region(region).Valid():
		return &FieldError{"region", "must be na, eu or fe"}
	case endUserID != "" && !ValidEndUserID(endUserID):
		return &FieldError{"end_user_id", "must be 1 to 128 printable ASCII characters"}
	}
	err := s.ConnectionStore.Disconnect(ctx, sellingPartnerID, amazon.Region(region), endUserID)
	switch {
	case errors.Is(err, ErrConnectionNotFound), errors.Is(err, ErrConnectedToAnotherUser):
		return err
	case err != nil:
		return fmt.Errorf("%w: disconnect: %w", ErrStorage, err)
	}
	return nil
}
