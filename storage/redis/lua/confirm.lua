-- confirm.lua: Confirm. ARGV: now, task id, run id. Makes the claim of
-- the task made ahead for the run the run's own; changes no expiry.
local id, run = ARGV[2], ARGV[3]
ROOT = rootOf(id)
local x = peek(id)
if not x then
  raise('NOTFOUND', id)
end
if x.k ~= 'task' then
  raise('STATE', id .. ': not a task but a ' .. tostring(x.k))
end
if not x.ah or x.run ~= run then
  return 1
end
x = get(id)
confirmAhead(x)
commit()
return 1
