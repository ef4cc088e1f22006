package storagetest

import (
	"encoding/json"
	"strings"

	"github.com/mageflow-go/mageflow/sig"
)

// The task names perform knows. Any other name echoes its payload.
const (
	// taskInc adds one to a number.
	taskInc = "inc"
	// taskDbl doubles a number.
	taskDbl = "dbl"
	// taskSum adds up an array of numbers.
	taskSum = "sum"
	// taskFail fails with boom.
	taskFail = "fail"
	// taskRet is the prefix of tasks that return the JSON after it:
	// "ret7" returns 7 whatever its input.
	taskRet = "ret"
	// taskEcho returns its payload; callbacks use it.
	taskEcho = "echo"
)

// perform runs the task of d: it returns the result, or the failure for
// Fail.
func (e *env) perform(d sig.Dispatch) ([]byte, *sig.ErrorInfo) {
	e.t.Helper()
	number := func() float64 {
		var n float64
		if err := json.Unmarshal(d.Payload, &n); err != nil {
			e.t.Fatalf("task %s (%s): payload %s is not a number: %v", d.Task, d.Target, d.Payload, err)
		}
		return n
	}
	switch {
	case d.Task == taskInc:
		return marshal(e.t, number()+1), nil
	case d.Task == taskDbl:
		return marshal(e.t, number()*2), nil
	case d.Task == taskSum:
		var ns []float64
		if err := json.Unmarshal(d.Payload, &ns); err != nil {
			e.t.Fatalf("task sum (%s): payload %s is not an array of numbers: %v", d.Target, d.Payload, err)
		}
		var total float64
		for _, n := range ns {
			total += n
		}
		return marshal(e.t, total), nil
	case d.Task == taskFail:
		info := boom(d.Task)
		return nil, &info
	case strings.HasPrefix(d.Task, taskRet):
		return []byte(d.Task[len(taskRet):]), nil
	}
	return d.Payload, nil
}

// boom is the failure of task name that the suite reports.
func boom(name string) sig.ErrorInfo {
	return sig.ErrorInfo{Task: name, Message: "boom", Attempts: 1, Kind: sig.ErrorTask}
}
