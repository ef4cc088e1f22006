-- swarm.lua: loadSwarm, shared by add and close.
local function loadSwarm(id)
  ROOT = rootOf(id)
  local s = get(id)
  if s.k ~= 'swarm' or s.sw == nil then
    raise('STATE', id .. ': not a swarm but a ' .. tostring(s.k))
  end
  return s
end
