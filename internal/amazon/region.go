package amazon

// Region is an SP-API region. An authorization (one refresh token) is per seller and region.
type Region string

// The SP-API regions.
const (
	RegionNA Region = "na"
	RegionEU Region = "eu"
	RegionFE Region = "fe"
)

// AccountType says whether the partner signs in to Seller Central or Vendor Central.
type AccountType string

// The account types.
const (
	Seller AccountType = "seller"
	Vendor AccountType = "vendor"
)

// Valid reports whether r is one of the three SP-API regions. Region values come back from
// DynamoDB and query strings, so callers check them before trusting them as a key.
func (r Region) Valid() bool {
	switch r {
	case RegionNA, RegionEU, RegionFE:
		return true
	}
	return false
}
