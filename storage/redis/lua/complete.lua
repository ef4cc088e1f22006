-- complete.lua: Complete. ARGV: now, task id, run id, result, and
-- optionally the run for which to claim the task its completion
-- dispatches alone and the claim's lease in ms (CompleteAhead).
local id = ARGV[2]
if ARGV[5] and ARGV[5] ~= '' then
  ahead = ARGV[5]
  lease = tonumber(ARGV[6]) or 0
end
local x, ended = owned(id, ARGV[3])
if ended then
  if x.s ~= 'done' then
    raise('STATE', id .. ': complete a ' .. x.s .. ' task')
  end
  return effectsOf(id, x)
end
confirmAhead(x)
endsPaused = paused(x.s)
complete(x, ARGV[4])
return finish(id)
