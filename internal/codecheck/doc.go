// Package codecheck holds tests that read the repository's own source and fail when it breaks a
// rule of its style. It has no code of its own: the rules are its tests, and they run with
// `go test ./...` like any other.
//
// The length rule (TestNoLongFunctions): no function or method outside tests is longer than 80
// lines, counted from its func keyword to its closing brace. A function that does not fit on a
// screen does several things; each step of it, named, says what it does, and a reader can check
// one step without holding the whole function in mind. Tests are exempt: a test reads top to
// bottom as one story, and cutting it into steps hides what it checks.
package codecheck
