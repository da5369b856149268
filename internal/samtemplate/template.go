package samtemplate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// Template is a parsed CloudFormation/SAM template. It is read-only: every view is built anew on
// each call, so callers may change what they get.
type Template struct {
	// root is the top-level mapping; resources its Resources mapping.
	root, resources *yaml.Node
}

// Find returns the path of template.yaml at the root of the module, found by walking up from the
// working directory to go.mod, so that tests of any package (run in their own directory) and
// programs run from anywhere in the repository find the same file.
func Find() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find template.yaml: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "template.yaml"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find template.yaml: no go.mod in the working directory or above")
		}
		dir = parent
	}
}

// Load reads and parses the template at path.
func Load(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Parse parses a template: one YAML document, a mapping with a Resources mapping (CloudFormation
// requires one).
func Parse(data []byte) (*Template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("template is not a YAML mapping")
	}
	t := &Template{root: doc.Content[0]}
	t.resources = value(t.root, "Resources")
	if t.resources == nil || t.resources.Kind != yaml.MappingNode {
		return nil, errors.New("template has no Resources mapping")
	}
	// Checked here once, so that CloudFormation, which converts the same tree, cannot fail.
	if _, err := longForm(t.root); err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	return t, nil
}

// CloudFormation returns the whole template as CloudFormation reads it, in JSON's terms: mappings
// are map[string]any, sequences []any, scalars what YAML makes of them (string, int, float64,
// bool, nil), and each short-form tag is its long form, as the SAM translator's own loader has
// it: !Ref X is {"Ref": "X"}, !GetAtt A.B is {"Fn::GetAtt": ["A", "B"]}, !Sub s is
// {"Fn::Sub": s}, !If [...] is {"Fn::If": [...]}, !Condition C is {"Condition": "C"}.
func (t *Template) CloudFormation() map[string]any {
	v, _ := longForm(t.root) // Parse has converted this tree once without error
	m, _ := v.(map[string]any)
	return m
}

// longForm converts a node as CloudFormation reads it (see CloudFormation).
func longForm(n *yaml.Node) (any, error) {
	if n.Kind == yaml.AliasNode {
		return longForm(n.Alias)
	}
	var v any
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			val, err := longForm(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = val
		}
		v = m
	case yaml.SequenceNode:
		list := []any{}
		for _, c := range n.Content {
			val, err := longForm(c)
			if err != nil {
				return nil, err
			}
			list = append(list, val)
		}
		v = list
	case yaml.ScalarNode:
		if intrinsic(n) {
			v = n.Value // the argument of !Ref X is the string X, whatever it looks like
		} else if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
	}
	if !intrinsic(n) {
		return v, nil
	}
	name := n.Tag[1:]
	if s, ok := v.(string); ok && name == "GetAtt" {
		resource, attr, _ := strings.Cut(s, ".")
		v = []any{resource, attr}
	}
	if name != "Ref" && name != "Condition" {
		name = "Fn::" + name
	}
	return map[string]any{name: v}, nil
}

// intrinsic says n carries a CloudFormation short-form tag (!Ref, !GetAtt, ...), as opposed to
// none or one of YAML's own (!!str, !!int, ...).
func intrinsic(n *yaml.Node) bool {
	return strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!")
}

// resourcesOfType calls f with the logical ID and Properties (nil when absent) of each resource of
// type typ, in the template's order.
func (t *Template) resourcesOfType(typ string, f func(id string, props *yaml.Node) error) error {
	for i := 0; i+1 < len(t.resources.Content); i += 2 {
		id, node := t.resources.Content[i].Value, t.resources.Content[i+1]
		if tn := value(node, "Type"); tn == nil || tn.Value != typ {
			continue
		}
		if err := f(id, value(node, "Properties")); err != nil {
			return err
		}
	}
	return nil
}

// value returns the value of key in mapping n, or nil.
func value(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// logicalIDOf returns the resource a !GetAtt X.Attr, !GetAtt [X, Attr] or !Ref X names, or "".
func logicalIDOf(n *yaml.Node) string {
	switch {
	case n == nil:
		return ""
	case n.Tag == "!GetAtt" && n.Kind == yaml.SequenceNode && len(n.Content) > 0:
		return n.Content[0].Value
	case n.Tag == "!GetAtt" || n.Tag == "!Ref":
		id, _, _ := strings.Cut(n.Value, ".")
		return id
	}
	return ""
}

// scalars says whether a scalar, or any scalar of a sequence, satisfies ok.
func scalars(n *yaml.Node, ok func(string) bool) bool {
	if n == nil {
		return false
	}
	if n.Kind == yaml.ScalarNode {
		return ok(n.Value)
	}
	for _, c := range n.Content {
		if c.Kind == yaml.ScalarNode && ok(c.Value) {
			return true
		}
	}
	return false
}
