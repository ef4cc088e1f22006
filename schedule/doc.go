// Package schedule reads when a schedule's ticks fall: a cron expression
// (five fields, or a shortcut such as @daily or @every 15m) in a time
// zone, the ticks due at a time under a policy for the missed ones, and
// the id of the flow a tick starts.
//
// A tick's flow id derives from the schedule's name and the tick's time
// ([TickID]), so that however many workers see a tick due, starting its
// flow with that id (flow.WithID) starts one flow: the first start stores
// it, the others find it.
//
// Cron expressions are parsed by github.com/robfig/cron/v3; an
// expression it refuses is reported with the field at fault.
package schedule
