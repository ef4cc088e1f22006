-- spawn.lua: Spawn. ARGV: now, task id, flow number. Writes the task's
-- Spawned count; changes no expiry.
local id, n = ARGV[2], tonumber(ARGV[3])
ROOT = rootOf(id)
local x = get(id)
if x.k ~= 'task' then
  raise('STATE', id .. ': spawn: not a task but a ' .. tostring(x.k))
elseif x.s == 'canceled' then
  raise('CANCELED', id)
elseif n == nil or n < 1 then
  raise('STATE', id .. ': spawn: flow number ' .. tostring(ARGV[3]))
elseif (x.sp or 0) >= n then
  return 1
end
x.sp = n
commit()
return 1
