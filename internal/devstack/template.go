package devstack

import "github.com/sellerauth/sellerauth/internal/samtemplate"

// The stack reads template.yaml through internal/samtemplate. These names of samtemplate's stay
// here only while cmd/coldstart uses them through this package.
type (
	// Function is samtemplate.Function.
	//
	// Deprecated: use samtemplate.Function.
	Function = samtemplate.Function
	// Route is samtemplate.Route.
	//
	// Deprecated: use samtemplate.Route.
	Route = samtemplate.Route
	// Resolver is samtemplate.Resolver.
	//
	// Deprecated: use samtemplate.Resolver.
	Resolver = samtemplate.Resolver
)

// Functions is the functions of the template at templatePath (see samtemplate.Template.Functions).
//
// Deprecated: use samtemplate.Load and Template.Functions.
func Functions(templatePath string, res Resolver) ([]Function, error) {
	tpl, err := samtemplate.Load(templatePath)
	if err != nil {
		return nil, err
	}
	return tpl.Functions(res)
}
