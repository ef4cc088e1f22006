-- fail.lua: Fail. ARGV: now, task id, run id, then the error: task,
-- message, attempts, kind, stack.
local id = ARGV[2]
local x, ended = owned(id, ARGV[3])
if ended then
  if x.s ~= 'failed' then
    raise('STATE', id .. ': fail a ' .. x.s .. ' task')
  end
  return effectsOf(id, x)
end
confirmAhead(x)
endsPaused = paused(x.s)
if x.s == 'interrupted' then
  -- the interrupt stopped it; resume runs it again
  x.ls = 'pending'
  x.run = nil
  x.h = true
  return finish(id)
end
local e = {t = ARGV[4], m = ARGV[5], at = tonumber(ARGV[6]), k = ARGV[7]}
if ARGV[8] ~= '' then
  e.st = ARGV[8]
end
failNode(x, e)
return finish(id)
