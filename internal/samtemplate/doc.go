// Package samtemplate is the one reader of template.yaml, the SAM template that deploys the
// service. The local dev stack builds its tables, queues, functions, routes and event sources from
// it, the tests create their tables from it, and the template's own tests check it: each of them
// once parsed the YAML its own way, and they disagreed on the details (CloudFormation's short-form
// tags, defaults such as SAM's batch sizes, which properties may hold an intrinsic function).
// Reading it here, once, keeps every copy of the system shaped as the deployed one is. The
// template is parsed into a yaml.Node tree, which keeps the short-form tags (!Ref, !GetAtt, !Sub,
// !If, ...) that decoding into Go values would lose; the typed views (Tables, Queues, Functions)
// and the whole document in CloudFormation's long form (CloudFormation) are read from that tree.
package samtemplate
