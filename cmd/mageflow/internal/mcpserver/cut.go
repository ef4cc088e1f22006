package mcpserver

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/mageflow-go/mageflow/inspect"
	"github.com/mageflow-go/mageflow/sig"
)

// The most bytes of a payload (args, input, result) and of an error's
// message or stack an answer carries; a larger one is cut. A node of a
// tree (get_flow) carries smaller payloads than a node alone (get_node),
// and a tree at most maxTreeNodes steps and items.
const (
	maxPayload     = 4 << 10
	maxTreePayload = 1 << 10
	headBytes      = 512 // of a payload cut: the start it keeps
	maxText        = 2 << 10
	maxTreeNodes   = 200
)

// cutTree cuts the payloads larger than limit and the large error texts
// of the records under n. The records are the answer's own copies.
func cutTree(n *inspect.Node, limit int) {
	if n == nil || n.Record == nil {
		return
	}
	r := n.Record
	r.Args, r.Input, r.Result = cut(r.Args, limit), cut(r.Input, limit), cut(r.Result, limit)
	r.Error = cutError(r.Error)
	if st := r.Swarm; st != nil {
		st.LastError = cutError(st.LastError)
	}
	for _, list := range [][]*inspect.Node{n.Children, n.FailedMore, n.OnSuccess, n.OnError} {
		for _, c := range list {
			cutTree(c, limit)
		}
	}
}

// cutPayload is what stands for a payload too large to show.
type cutPayload struct {
	Cut   bool   `json:"cut"`
	Bytes int    `json:"bytes"`
	Head  string `json:"head"`
}

// cut returns payload p, or for one larger than limit a note of its size
// with its first bytes.
func cut(p []byte, limit int) []byte {
	if len(p) <= limit {
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

// pruneTree keeps at most most of the steps and items under n, the
// nearest to the root first: a container whose children it leaves out
// counts them in More (container_items pages through them), and shows
// none of its FailedMore.
func pruneTree(n *inspect.Node, most int) {
	queue := []*inspect.Node{n}
	for len(queue) > 0 {
		x := queue[0]
		queue = queue[1:]
		keep := max(most, 0)
		if len(x.Children) > keep {
			x.More += len(x.Children) - keep
			x.Children = x.Children[:keep]
		}
		if len(x.FailedMore) > keep-len(x.Children) {
			x.FailedMore = nil // among More; container_items shows them
		}
		most -= len(x.Children) + len(x.FailedMore)
		queue = append(queue, x.Children...)
		queue = append(queue, x.FailedMore...)
		queue = append(queue, x.OnSuccess...)
		queue = append(queue, x.OnError...)
	}
}

// cutError is a copy of e with its message and stack cut, nil for none.
func cutError(e *sig.ErrorInfo) *sig.ErrorInfo {
	if e == nil {
		return nil
	}
	c := *e
	c.Message, c.Stack = cutText(c.Message), cutText(c.Stack)
	return &c
}
