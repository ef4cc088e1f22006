package hatchet

import "regexp"

// tokenLike matches what could be a token (a JWT, or a long opaque
// string) in a message.
var tokenLike = regexp.MustCompile(`eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*|[A-Za-z0-9_\-]{40,}`)

// redact removes tokens from a message before it goes into an error.
func redact(msg string) string { return tokenLike.ReplaceAllString(msg, "[redacted]") }
