// Package streams does locally what Lambda's event source mapping does for a DynamoDB stream: it
// reads a table's stream (from moto_server in tests and `make dev`), turns each record into the
// record a Lambda function receives, and applies the mapping's filter criteria as Lambda does.
// Tests use it to prove what the deployed filters let through (a plain refresh: nothing), and the
// local stack to feed the events function.
package streams

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Filter is one FilterCriteria pattern of an event source mapping: a record passes when every key
// of the pattern matches. Supported, as Lambda's event filtering defines them: nested objects,
// arrays of literal values (a match is any of them) and {"exists": true|false}; enough for the
// patterns this project's template uses. An unsupported rule is an error, never a silent pass.
type Filter struct {
	pattern map[string]any
}

// ParseFilter reads a pattern as the template writes it.
func ParseFilter(pattern string) (Filter, error) {
	var p map[string]any
	if err := json.Unmarshal([]byte(pattern), &p); err != nil {
		return Filter{}, fmt.Errorf("filter pattern: %w", err)
	}
	if err := check(p); err != nil {
		return Filter{}, fmt.Errorf("filter pattern %s: %w", pattern, err)
	}
	return Filter{pattern: p}, nil
}

func check(p map[string]any) error {
	for k, v := range p {
		switch v := v.(type) {
		case map[string]any:
			if err := check(v); err != nil {
				return err
			}
		case []any:
			for _, rule := range v {
				switch r := rule.(type) {
				case string, float64, bool, nil:
				case map[string]any:
					if _, ok := r["exists"].(bool); !ok || len(r) != 1 {
						return fmt.Errorf("key %s: only {\"exists\": bool} rules are supported", k)
					}
				default:
					return fmt.Errorf("key %s: unsupported rule %v", k, rule)
				}
			}
		default:
			return fmt.Errorf("key %s: a pattern value is an object or an array", k)
		}
	}
	return nil
}

// Match reports whether a record (as the JSON Lambda would deliver) passes the pattern.
func (f Filter) Match(record []byte) (bool, error) {
	var r map[string]any
	if err := json.Unmarshal(record, &r); err != nil {
		return false, fmt.Errorf("record: %w", err)
	}
	return match(f.pattern, r), nil
}

func match(pattern map[string]any, value map[string]any) bool {
	for k, p := range pattern {
		v, present := value[k]
		switch p := p.(type) {
		case map[string]any:
			sub, ok := v.(map[string]any)
			if !ok || !match(p, sub) {
				return false
			}
		case []any:
			if !matchRules(p, v, present) {
				return false
			}
		}
	}
	return true
}

func matchRules(rules []any, v any, present bool) bool {
	for _, rule := range rules {
		if r, ok := rule.(map[string]any); ok {
			if present == r["exists"].(bool) {
				return true
			}
			continue
		}
		if present && equalLiteral(rule, v) {
			return true
		}
	}
	return false
}

func equalLiteral(rule, v any) bool {
	switch r := rule.(type) {
	case string:
		s, ok := v.(string)
		return ok && s == r
	case float64:
		switch v := v.(type) {
		case float64:
			return v == r
		case string: // DynamoDB numbers are strings in the record
			f, err := strconv.ParseFloat(v, 64)
			return err == nil && f == r
		}
	case bool:
		b, ok := v.(bool)
		return ok && b == r
	case nil:
		return v == nil
	}
	return false
}

// AnyMatch reports whether a record passes any of the filters (the mapping's criteria), or, with
// no filters, passes.
func AnyMatch(filters []Filter, record []byte) (bool, error) {
	if len(filters) == 0 {
		return true, nil
	}
	for _, f := range filters {
		ok, err := f.Match(record)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}
