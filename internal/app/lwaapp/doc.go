// Package lwaapp wires the functions that hold the LWA client secret and call Login with Amazon:
// callback and refresh. It is apart from package app so that the authorize and login functions do
// not link the Secrets Manager client and the LWA client: every package a binary links runs its
// initialisation on each cold start (see docs/coldstart.md, "Cold start").
package lwaapp
