package lwasecret

// OnWait makes s call waiting each time a caller starts waiting for the fetch in progress, so
// that a test knows its callers wait before it lets the fetch end.
func OnWait(s *Source, waiting func()) {
	s.fetches.Joined = func(struct{}) { waiting() }
}
