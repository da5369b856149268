package tokens

// OnWait makes r call waiting each time a caller starts waiting for another caller's read of
// the same seller's token, so that a test knows its callers wait before it lets the read end.
func OnWait(r *Reader, waiting func()) {
	r.loads.Joined = func(key) { waiting() }
}
