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
