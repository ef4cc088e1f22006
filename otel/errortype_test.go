package otelmageflow

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/mageflow-go/mageflow/task"
)

type declined struct{}

func (declined) Error() string { return "declined" }

func TestErrorType(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{errors.Join(context.DeadlineExceeded, errors.New("slow")), "timeout"},
		{&task.PanicError{Value: "boom"}, "panic"},
		{task.NonRetryable(declined{}), "github.com/mageflow-go/mageflow/otel.declined"},
		{fmt.Errorf("charge: %w", task.NonRetryable(declined{})), "github.com/mageflow-go/mageflow/otel.declined"},
		{&task.DecodeError{Err: errors.New("bad json")}, "*task.DecodeError"},
		{declined{}, "github.com/mageflow-go/mageflow/otel.declined"},
	} {
		if got := errorType(c.err); got != c.want {
			t.Errorf("errorType(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}
