package storage

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mageflow-go/mageflow/sig"
)

// FlowCursor is the cursor of the page of [Index.Flows] after the flow
// created at created (milliseconds count) with root id id. Stores that
// implement Index use it, so that a cursor reads the same everywhere.
func FlowCursor(created time.Time, id string) string {
	return strconv.FormatInt(created.UnixMilli(), 10) + "." + id
}

// ParseFlowCursor reads a FlowCursor: the creation time in milliseconds
// and the id of the last flow of the page before. It returns an error
// wrapping ErrState for a cursor FlowCursor did not make.
func ParseFlowCursor(c string) (ms int64, id string, err error) {
	s, id, ok := strings.Cut(c, ".")
	if ok {
		ms, err = strconv.ParseInt(s, 10, 64)
	}
	if !ok || err != nil || !sig.ValidID(id) || sig.RootOf(id) != id {
		return 0, "", fmt.Errorf("storage: bad flow cursor %q: %w", c, ErrState)
	}
	return ms, id, nil
}

// Before reports whether a flow created at ms (milliseconds) with root id
// id comes after the cursor's flow (ms, cid), newest first: it is older,
// or as old with a smaller id.
func Before(ms int64, id string, cms int64, cid string) bool {
	return ms < cms || ms == cms && id < cid
}
