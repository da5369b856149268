package samtemplate

import (
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Function is one AWS::Serverless::Function of the template, as a local copy of the system runs it.
type Function struct {
	LogicalID string
	// Env is Globals' environment merged with the function's, with !Ref, !If, !Sub and !GetAtt
	// resolved against the Resolver; AWS::NoValue entries dropped.
	Env       map[string]string
	Routes    []Route
	Schedules []Schedule
	// Queues are the function's SQS events, which Lambda's event source mapping polls.
	Queues []QueueEvent
	// Streams are the function's DynamoDB events, which Lambda's event source mapping polls.
	Streams []StreamEvent
	// Timeout is in seconds: the function's, else Globals', else Lambda's default of 3.
	Timeout int
}

// Route is an HttpApi event: "GET /callback", or "GET /connect/sessions/{session_id}" with a
// path parameter.
type Route struct {
	Method, Path string
	// IAM says the route is behind API Gateway's IAM authorizer (Auth.Authorizer: AWS_IAM, or the
	// API's DefaultAuthorizer): only SigV4-signed requests reach the function.
	IAM bool
}

// Key is the route key as API Gateway writes it in routeKey.
func (r Route) Key() string { return r.Method + " " + r.Path }

// Schedule is a ScheduleV2 (or Schedule) event.
type Schedule struct {
	Name, Expression string
	// Input is the event's fixed input, which the scheduler sends verbatim instead of its own event.
	Input string
}

// QueueEvent is an SQS event: Lambda polls the queue and invokes the function with batches of
// its messages.
type QueueEvent struct {
	Name string
	// Queue is the logical ID of the template's AWS::SQS::Queue the event reads.
	Queue string
	// BatchSize is the most messages of one invocation: SAM's default is 10.
	BatchSize int
	// ReportBatchItemFailures says the function answers with the messages to deliver again
	// (FunctionResponseTypes: [ReportBatchItemFailures]); without it, a batch succeeds or fails whole.
	ReportBatchItemFailures bool
}

// StreamEvent is a DynamoDB event: Lambda reads the table's stream, drops the records that pass
// none of the filters, and invokes the function with batches of the rest.
type StreamEvent struct {
	Name string
	// Table is the logical ID of the AWS::DynamoDB::Table whose stream the event reads
	// (Stream: !GetAtt <table>.StreamArn).
	Table string
	// BatchSize is the most records of one invocation: SAM's default is 100.
	BatchSize int
	// StartingPosition is TRIM_HORIZON or LATEST.
	StartingPosition string
	// Filters are the FilterCriteria's patterns, as the template writes them.
	Filters []string
	// ReportBatchItemFailures says the function answers with the first record to deliver again
	// (FunctionResponseTypes: [ReportBatchItemFailures]); without it, a batch succeeds or fails whole.
	ReportBatchItemFailures bool
}

// Resolver gives values to what the functions' environment refers to.
type Resolver struct {
	// Parameters are the template parameters' values; a parameter not set here takes its Default.
	Parameters map[string]string
	// Resources are the physical names of resources (!Ref of a table: its name; of a secret: its
	// ARN), and of their attributes as "LogicalID.Attribute" (!GetAtt Queue.Arn).
	Resources map[string]string
	// Region and AccountID are AWS::Region and AWS::AccountId.
	Region, AccountID string
	// Lenient resolves unknown references to "" (to list the functions before resources exist).
	Lenient bool
}

// Functions returns the template's functions, sorted by logical ID, with their environment
// resolved by res.
func (t *Template) Functions(res Resolver) ([]Function, error) {
	r := t.newResolver(res)
	globalEnv := map[string]string{}
	globalTimeout := 3
	if g := value(value(t.root, "Globals"), "Function"); g != nil {
		if err := r.env(value(value(g, "Environment"), "Variables"), globalEnv); err != nil {
			return nil, fmt.Errorf("template Globals: %w", err)
		}
		if tn := value(g, "Timeout"); tn != nil {
			fmt.Sscan(tn.Value, &globalTimeout)
		}
	}
	apiDefaultAuth := t.defaultAuthorizers()
	var fns []Function
	err := t.resourcesOfType("AWS::Serverless::Function", func(id string, props *yaml.Node) error {
		f := Function{LogicalID: id, Env: maps.Clone(globalEnv), Timeout: globalTimeout}
		if tn := value(props, "Timeout"); tn != nil {
			fmt.Sscan(tn.Value, &f.Timeout)
		}
		if err := r.env(value(value(props, "Environment"), "Variables"), f.Env); err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
		events := value(props, "Events")
		for j := 0; events != nil && j+1 < len(events.Content); j += 2 {
			if err := f.addEvent(events.Content[j].Value, events.Content[j+1], apiDefaultAuth); err != nil {
				return fmt.Errorf("%s: event %s: %w", id, events.Content[j].Value, err)
			}
		}
		fns = append(fns, f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(fns, func(i, j int) bool { return fns[i].LogicalID < fns[j].LogicalID })
	return fns, nil
}

// addEvent adds the function's event name of the types a local stack serves (HttpApi, Schedule,
// ScheduleV2, SQS, DynamoDB); others are left out.
func (f *Function) addEvent(name string, ev *yaml.Node, apiDefaultAuth map[string]string) error {
	ep := value(ev, "Properties")
	tn := value(ev, "Type")
	if tn == nil {
		return nil
	}
	switch tn.Value {
	case "HttpApi":
		m, p := value(ep, "Method"), value(ep, "Path")
		if m == nil || p == nil {
			return errors.New("HttpApi without Method and Path")
		}
		authorizer := apiDefaultAuth[logicalIDOf(value(ep, "ApiId"))]
		if a := value(value(ep, "Auth"), "Authorizer"); a != nil {
			authorizer = a.Value
		}
		f.Routes = append(f.Routes, Route{Method: strings.ToUpper(m.Value), Path: p.Value, IAM: authorizer == "AWS_IAM"})
	case "ScheduleV2", "Schedule":
		sc := Schedule{Name: name}
		if e := value(ep, "ScheduleExpression"); e != nil {
			sc.Expression = e.Value
		} else if e := value(ep, "Schedule"); e != nil {
			sc.Expression = e.Value
		}
		if in := value(ep, "Input"); in != nil {
			sc.Input = in.Value
		}
		f.Schedules = append(f.Schedules, sc)
	case "SQS":
		q := QueueEvent{Name: name, Queue: logicalIDOf(value(ep, "Queue")), BatchSize: 10,
			ReportBatchItemFailures: reportsBatchItemFailures(ep)}
		if q.Queue == "" {
			return errors.New("Queue must be !GetAtt <queue>.Arn of this template")
		}
		if b := value(ep, "BatchSize"); b != nil {
			fmt.Sscan(b.Value, &q.BatchSize)
		}
		f.Queues = append(f.Queues, q)
	case "DynamoDB":
		se, err := streamEvent(name, ep)
		if err != nil {
			return err
		}
		f.Streams = append(f.Streams, se)
	}
	return nil
}

func streamEvent(name string, ep *yaml.Node) (StreamEvent, error) {
	se := StreamEvent{Name: name, BatchSize: 100, StartingPosition: "TRIM_HORIZON", ReportBatchItemFailures: reportsBatchItemFailures(ep)}
	if sn := value(ep, "Stream"); sn != nil && sn.Tag == "!GetAtt" {
		table, attr := logicalIDOf(sn), ""
		if sn.Kind == yaml.SequenceNode && len(sn.Content) == 2 {
			attr = sn.Content[1].Value
		} else {
			_, attr, _ = strings.Cut(sn.Value, ".")
		}
		if attr == "StreamArn" {
			se.Table = table
		}
	}
	if se.Table == "" {
		return se, errors.New("Stream must be !GetAtt <table>.StreamArn of this template")
	}
	if b := value(ep, "BatchSize"); b != nil {
		fmt.Sscan(b.Value, &se.BatchSize)
	}
	if sp := value(ep, "StartingPosition"); sp != nil {
		se.StartingPosition = sp.Value
	}
	if fs := value(value(ep, "FilterCriteria"), "Filters"); fs != nil {
		for _, flt := range fs.Content {
			if p := value(flt, "Pattern"); p != nil {
				se.Filters = append(se.Filters, p.Value)
			}
		}
	}
	return se, nil
}

// reportsBatchItemFailures says an event's FunctionResponseTypes lists ReportBatchItemFailures.
func reportsBatchItemFailures(ep *yaml.Node) bool {
	return scalars(value(ep, "FunctionResponseTypes"), func(v string) bool { return v == "ReportBatchItemFailures" })
}

// defaultAuthorizers returns the Auth.DefaultAuthorizer of each AWS::Serverless::HttpApi by
// logical ID: a route without an Authorizer of its own gets its API's.
func (t *Template) defaultAuthorizers() map[string]string {
	out := map[string]string{}
	_ = t.resourcesOfType("AWS::Serverless::HttpApi", func(id string, props *yaml.Node) error {
		if d := value(value(props, "Auth"), "DefaultAuthorizer"); d != nil {
			out[id] = d.Value
		}
		return nil
	})
	return out
}

// resolver evaluates the few intrinsic functions the functions' environment uses.
type resolver struct {
	Resolver
	params     map[string]string
	conditions map[string]*yaml.Node
}

func (t *Template) newResolver(res Resolver) *resolver {
	r := &resolver{Resolver: res, params: map[string]string{}, conditions: map[string]*yaml.Node{}}
	if ps := value(t.root, "Parameters"); ps != nil {
		for i := 0; i+1 < len(ps.Content); i += 2 {
			name := ps.Content[i].Value
			if v, ok := res.Parameters[name]; ok {
				r.params[name] = v
			} else if d := value(ps.Content[i+1], "Default"); d != nil {
				r.params[name] = d.Value
			}
		}
	}
	if cs := value(t.root, "Conditions"); cs != nil {
		for i := 0; i+1 < len(cs.Content); i += 2 {
			r.conditions[cs.Content[i].Value] = cs.Content[i+1]
		}
	}
	return r
}

var errNoValue = errors.New("AWS::NoValue")

func (r *resolver) env(vars *yaml.Node, into map[string]string) error {
	for i := 0; vars != nil && i+1 < len(vars.Content); i += 2 {
		name := vars.Content[i].Value
		v, err := r.eval(vars.Content[i+1])
		if errors.Is(err, errNoValue) {
			delete(into, name)
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		into[name] = v
	}
	return nil
}

func (r *resolver) eval(n *yaml.Node) (string, error) {
	switch n.Tag {
	case "!Ref":
		return r.ref(n.Value)
	case "!GetAtt":
		name := n.Value
		if n.Kind == yaml.SequenceNode && len(n.Content) == 2 {
			name = n.Content[0].Value + "." + n.Content[1].Value
		}
		// An attribute the caller knows ("Queue.Arn"), else the resource's own value.
		if v, ok := r.Resources[name]; ok {
			return v, nil
		}
		res, _, _ := strings.Cut(name, ".")
		return r.ref(res)
	case "!If":
		if n.Kind != yaml.SequenceNode || len(n.Content) != 3 {
			return "", errors.New("!If needs three arguments")
		}
		ok, err := r.condition(n.Content[0].Value)
		if err != nil {
			return "", err
		}
		if ok {
			return r.eval(n.Content[1])
		}
		return r.eval(n.Content[2])
	case "!Sub":
		return r.sub(n.Value)
	}
	if n.Kind == yaml.ScalarNode {
		return n.Value, nil
	}
	return "", fmt.Errorf("unsupported value at line %d", n.Line)
}

// sub replaces each ${Name} of s with its !Ref (or !GetAtt, for ${Resource.Attribute}).
func (r *resolver) sub(s string) (string, error) {
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return s, nil
		}
		j := strings.Index(s[i:], "}")
		if j < 0 {
			return s, nil
		}
		v, err := r.ref(s[i+2 : i+j])
		if err != nil {
			return "", err
		}
		s = s[:i] + v + s[i+j+1:]
	}
}

func (r *resolver) ref(name string) (string, error) {
	switch name {
	case "AWS::NoValue":
		return "", errNoValue
	case "AWS::Region":
		return r.Region, nil
	case "AWS::AccountId":
		return r.AccountID, nil
	case "AWS::Partition":
		return "aws", nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	}
	if v, ok := r.params[name]; ok {
		return v, nil
	}
	if v, ok := r.Resources[name]; ok {
		return v, nil
	}
	if r.Lenient {
		return "", nil
	}
	return "", fmt.Errorf("!Ref %s: unknown to the local stack", name)
}

func (r *resolver) condition(name string) (bool, error) {
	c, ok := r.conditions[name]
	if !ok {
		return false, fmt.Errorf("unknown condition %s", name)
	}
	return r.cond(c)
}

func (r *resolver) cond(n *yaml.Node) (bool, error) {
	switch n.Tag {
	case "!Not":
		if n.Kind != yaml.SequenceNode || len(n.Content) != 1 {
			return false, errors.New("!Not needs one argument")
		}
		v, err := r.cond(n.Content[0])
		return !v, err
	case "!Equals":
		if n.Kind != yaml.SequenceNode || len(n.Content) != 2 {
			return false, errors.New("!Equals needs two arguments")
		}
		a, err := r.eval(n.Content[0])
		if err != nil {
			return false, err
		}
		b, err := r.eval(n.Content[1])
		return a == b, err
	case "!Condition":
		return r.condition(n.Value)
	}
	return false, fmt.Errorf("unsupported condition at line %d", n.Line)
}
