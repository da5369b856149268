package dynamo_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/sellerauth/sellerauth/internal/dynamo"
)

// otherTables are the structs of the state and session tables, whose attributes are not the
// token table's and so are not Attr constants.
var otherTables = map[string]bool{"sessionItem": true, "stateItem": true}

// TestAttrConstantsMatchTags keeps the token table's attribute names one list: the Attr
// constants name every attribute of tokenItem, and every dynamodbav tag of a token-table struct,
// the partial reads included, is one of them. It reads the package's source rather than a copy
// of the names, so renaming a constant or a tag alone fails here instead of in production, where
// the write and the read would quietly use different attributes.
func TestAttrConstantsMatchTags(t *testing.T) {
	consts, structs := parsePackage(t)
	if len(consts) == 0 || structs["tokenItem"] == nil {
		t.Fatalf("found %d Attr constants and tokenItem %v: has the source moved?", len(consts), structs["tokenItem"] != nil)
	}

	names := make([]string, 0, len(consts))
	for name := range consts {
		names = append(names, name)
	}
	sort.Strings(names)
	byValue := map[string]string{}
	for _, name := range names {
		v := consts[name]
		if other, ok := byValue[v]; ok {
			t.Errorf("%s and %s both name %q", other, name, v)
		}
		byValue[v] = name
	}

	// authorized_at_ms is written only by SaveAuthorization's update expression, to order
	// authorizations within a second, and is never read back into an Item.
	expressionOnly := map[string]bool{dynamo.AttrAuthorizedAtMs: true}
	tagged := map[string]bool{}
	for _, tag := range structs["tokenItem"] {
		tagged[tag] = true
	}
	for v, name := range byValue {
		if !tagged[v] && !expressionOnly[v] {
			t.Errorf("%s = %q is no dynamodbav tag of tokenItem", name, v)
		}
	}

	for s, tags := range structs {
		if otherTables[s] {
			continue
		}
		for _, tag := range tags {
			if _, ok := byValue[tag]; !ok {
				t.Errorf("%s: dynamodbav tag %q is no Attr constant", s, tag)
			}
		}
	}
}

// parsePackage reads the package's non-test files: the string value of every Attr constant by
// name, and the dynamodbav attribute names of every struct that has any, by type name
// ("file:line" for an anonymous struct).
func parsePackage(t *testing.T) (consts map[string]string, structs map[string][]string) {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	consts, structs = map[string]string{}, map[string][]string{}
	fset := token.NewFileSet()
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		named := map[*ast.StructType]string{}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				for i, id := range n.Names {
					if !strings.HasPrefix(id.Name, "Attr") || i >= len(n.Values) {
						continue
					}
					if lit, ok := n.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						consts[id.Name], _ = strconv.Unquote(lit.Value)
					}
				}
			case *ast.TypeSpec:
				if st, ok := n.Type.(*ast.StructType); ok {
					named[st] = n.Name.Name
				}
			case *ast.StructType:
				tags := dynamodbavNames(n)
				if len(tags) == 0 {
					break
				}
				name, ok := named[n]
				if !ok {
					name = fset.Position(n.Pos()).String()
				}
				structs[name] = tags
			}
			return true
		})
	}
	return consts, structs
}

// dynamodbavNames is the attribute name of every dynamodbav-tagged field of st.
func dynamodbavNames(st *ast.StructType) []string {
	var names []string
	for _, field := range st.Fields.List {
		if field.Tag == nil {
			continue
		}
		raw, err := strconv.Unquote(field.Tag.Value)
		if err != nil {
			continue
		}
		if v, ok := reflect.StructTag(raw).Lookup("dynamodbav"); ok {
			name, _, _ := strings.Cut(v, ",")
			names = append(names, name)
		}
	}
	return names
}
