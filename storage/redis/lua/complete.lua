-- complete.lua: Complete. ARGV: now, task id, run id, result.
local id = ARGV[2]
local x, ended = owned(id, ARGV[3])
if ended then
  if x.s ~= 'done' then
    raise('STATE', id .. ': complete a ' .. x.s .. ' task')
  end
  return effectsOf(id, x)
end
endsPaused = paused(x.s)
complete(x, ARGV[4])
return finish(id)
