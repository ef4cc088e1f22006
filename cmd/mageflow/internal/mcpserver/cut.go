package mcpserver

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/mageflow-go/mageflow/inspect"
)

// The most bytes of a payload (args, input, result) and of an error's
// message or stack an answer carries; a larger one is cut.
const (
	maxPayload = 4 << 10
	headBytes  = 512 // of a payload cut: the start it keeps
	maxText    = 2 << 10
)

// cutTree cuts the large payloads and error texts of the records under n.
// The records are the answer's own copies.
func cutTree(n *inspect.Node) {
	if n == nil || n.Record == nil {
		return
	}
	r := n.Record
	r.Args, r.Input, r.Result = cut(r.Args), cut(r.Input), cut(r.Result)
	if e := r.Error; e != nil {
		e.Message, e.Stack = cutText(e.Message), cutText(e.Stack)
	}
	if st := r.Swarm; st != nil && st.LastError != nil {
		st.LastError.Message, st.LastError.Stack = cutText(st.LastError.Message), cutText(st.LastError.Stack)
	}
	for _, list := range [][]*inspect.Node{n.Children, n.FailedMore, n.OnSuccess, n.OnError} {
		for _, c := range list {
			cutTree(c)
		}
	}
}

// cutPayload is what stands for a payload too large to show.
type cutPayload struct {
	Cut   bool   `json:"cut"`
	Bytes int    `json:"bytes"`
	Head  string `json:"head"`
}

// cut returns payload p, or for one larger than maxPayload a note of its
// size with its first bytes.
func cut(p []byte) []byte {
	if len(p) <= maxPayload {
		return p
	}
	b, err := json.Marshal(cutPayload{Cut: true, Bytes: len(p), Head: prefix(string(p), headBytes)})
	if err != nil {
		return nil
	}
	return b
}

// cutText is s, or its start and a note of its size when it is larger
// than maxText.
func cutText(s string) string {
	if len(s) <= maxText {
		return s
	}
	return prefix(s, maxText) + "… (cut: " + strconv.Itoa(len(s)) + " bytes in all)"
}

// prefix is the start of s, at most n bytes, not cutting a character.
func prefix(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
