-- close.lua: CloseSwarm. ARGV: now, swarm id.
local id = ARGV[2]
local s = loadSwarm(id)
if s.s == 'canceled' then
  raise('CANCELED', id)
end
if s.sw.cl then
  return cmsgpack.pack({src = id, d = {}, c = {}})
end
if terminal(s.s) then
  raise('STATE', id .. ': close a ' .. s.s .. ' swarm')
end
s.sw.cl = true
settle(s)
return finish(id)
