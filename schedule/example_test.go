package schedule_test

import (
	"fmt"
	"time"

	"github.com/mageflow-go/mageflow/schedule"
)

func ExampleSpec_Due() {
	s, err := schedule.Parse("0 2 * * *", "Europe/Paris")
	if err != nil {
		panic(err)
	}
	// every worker was down from Monday noon to Thursday 09:00 (UTC)
	last := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	for _, tick := range s.Due(last, now, schedule.Latest) {
		fmt.Println(schedule.TickID("nightly-import", tick))
	}
	fmt.Println(len(s.Due(last, now, schedule.Skip)), "with Skip")
	_, err = schedule.Parse("0 25 * * *", "")
	fmt.Println(err)
	// Output:
	// nightly-import~20261203T010000Z
	// 0 with Skip
	// schedule: bad schedule: "0 25 * * *": field 2 (hour) "25": end of range (25) above maximum (23): 25
}
