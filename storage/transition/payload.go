package transition

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/mageflow-go/mageflow/sig"
)

// null stands for an absent JSON value.
var null = []byte("null")

func orNull(v []byte) []byte {
	if len(v) == 0 {
		return null
	}
	return v
}

// TaskPayload is the payload of a task with bound args: {"args":A,"in":v},
// or v itself when there are none.
func TaskPayload(args, v []byte) []byte {
	if args == nil {
		return orNull(v)
	}
	b := make([]byte, 0, len(args)+len(v)+16)
	b = append(b, `{"args":`...)
	b = append(b, orNull(args)...)
	b = append(b, `,"in":`...)
	b = append(b, orNull(v)...)
	return append(b, '}')
}

// FailurePayload is the input of an error callback:
// {"input": <failed node's input>, "error": <info>}.
func FailurePayload(input []byte, info sig.ErrorInfo) []byte {
	e, err := json.Marshal(info)
	if err != nil { // ErrorInfo has only strings and ints
		panic("transition: encode ErrorInfo: " + err.Error())
	}
	b := make([]byte, 0, len(input)+len(e)+20)
	b = append(b, `{"input":`...)
	b = append(b, orNull(input)...)
	b = append(b, `,"error":`...)
	b = append(b, e...)
	return append(b, '}')
}

// OutcomePayload is the outcome of item i of a settled swarm, which
// ended: {"index": i, "result": <its result>} when it is done, else
// {"index": i, "error": <its ErrorInfo>}.
func OutcomePayload(i int, item *sig.Record) []byte {
	b := make([]byte, 0, 32+len(item.Result))
	b = append(b, `{"index":`...)
	b = strconv.AppendInt(b, int64(i), 10)
	if item.Status == sig.Done {
		b = append(b, `,"result":`...)
		b = append(b, orNull(item.Result)...)
		return append(b, '}')
	}
	info := sig.ErrorInfo{Task: item.Name, Message: "item " + string(item.Status)}
	if item.Error != nil {
		info = *item.Error
	}
	e, err := json.Marshal(info)
	if err != nil { // ErrorInfo has only strings and ints
		panic("transition: encode ErrorInfo: " + err.Error())
	}
	b = append(b, `,"error":`...)
	b = append(b, e...)
	return append(b, '}')
}

// ListPayload is the JSON array of the given JSON values, in order.
func ListPayload(items [][]byte) []byte {
	n := 2
	for _, it := range items {
		n += len(it) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, '[')
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, orNull(it)...)
	}
	return append(b, ']')
}

// DispatchKey is the dedupe key of dispatch gen of record id.
func DispatchKey(id string, gen int) string {
	var buf [96]byte
	b := append(buf[:0], id...)
	b = append(b, '#')
	return string(strconv.AppendInt(b, int64(gen), 10))
}

// IsDispatchKey reports whether key is DispatchKey(id, gen), without
// building it.
func IsDispatchKey(key, id string, gen int) bool {
	rest, ok := strings.CutPrefix(key, id)
	if !ok || len(rest) < 2 || rest[0] != '#' {
		return false
	}
	var buf [24]byte
	return rest[1:] == string(strconv.AppendInt(buf[:0], int64(gen), 10))
}

// CancelKey is the outbox key of the cancel of backend run run.
func CancelKey(run string) string { return "cancel " + run }

// FlowsKey is the outbox key of the cancel of the flows task id started.
func FlowsKey(id string) string { return "flows " + id }
