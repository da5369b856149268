package events_test

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sellerauth/sellerauth/events"
)

// TestSchemaMatchesDetail keeps docs/events.schema.json and the Go types in step: every field of
// Detail is described, every detail-type has its schema, and nothing described is missing here.
func TestSchemaMatchesDetail(t *testing.T) {
	b, err := os.ReadFile("../docs/events.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Defs struct {
			Properties map[string]any `json:"properties"`
		} `json:"$defs"`
		OneOf []struct {
			Properties struct {
				DetailType struct {
					Const string `json:"const"`
				} `json:"detail-type"`
				Detail struct {
					Required   []string       `json:"required"`
					Properties map[string]any `json:"properties"`
				} `json:"detail"`
			} `json:"properties"`
		} `json:"oneOf"`
	}
	if err := json.Unmarshal(b, &schema); err != nil {
		t.Fatal(err)
	}
	var fields []string
	typ := reflect.TypeFor[events.Detail]()
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		fields = append(fields, name)
		if _, ok := schema.Defs.Properties[name]; !ok {
			t.Errorf("events.Detail.%s (%s) is not in the schema", typ.Field(i).Name, name)
		}
	}
	for name := range schema.Defs.Properties {
		if !slices.Contains(fields, name) {
			t.Errorf("the schema describes %s, which events.Detail has not", name)
		}
		if strings.Contains(name, "token") {
			t.Errorf("the schema describes %s: an event never carries a token", name)
		}
	}
	var types []string
	for _, o := range schema.OneOf {
		types = append(types, o.Properties.DetailType.Const)
		for _, r := range o.Properties.Detail.Required {
			if _, ok := o.Properties.Detail.Properties[r]; !ok {
				t.Errorf("%s requires %s without describing it", o.Properties.DetailType.Const, r)
			}
		}
	}
	slices.Sort(types)
	want := slices.Clone(events.DetailTypes)
	slices.Sort(want)
	if !slices.Equal(types, want) {
		t.Errorf("schema detail-types %v, want %v", types, want)
	}
}
