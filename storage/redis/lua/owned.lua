-- owned.lua: the ownership check of complete and fail. It loads task
-- ARGV[2] for run ARGV[3] and returns it, with true when the task already
-- ended (a replay).
local function owned(id, run)
  ROOT = rootOf(id)
  local x = get(id)
  if x.k ~= 'task' then
    raise('STATE', id .. ': not a task but a ' .. tostring(x.k))
  end
  if x.s == 'canceled' then
    raise('CANCELED', id)
  end
  if x.run == nil or x.run ~= run then
    raise('NOTOWNER', id .. ' as run ' .. run)
  end
  if x.s == 'done' or x.s == 'failed' then
    return x, true
  end
  if x.s == 'pending' then
    raise('NOTOWNER', id .. ': unclaimed')
  end
  return x, false
end
