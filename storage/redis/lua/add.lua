-- add.lua: AddItems. ARGV: now, swarm id, base, number of new items, then
-- id/record pairs of the items and their descendants.
local id = ARGV[2]
local s = loadSwarm(id)
local base, n = tonumber(ARGV[3]), tonumber(ARGV[4])
if s.s == 'canceled' then
  raise('CANCELED', id)
elseif terminal(s.s) then
  raise('STATE', id .. ': add items to a ' .. s.s .. ' swarm')
elseif s.sw.cl then
  raise('STATE', id .. ': add items to a closed swarm')
elseif (s.c or 0) ~= base then
  raise('CONFLICT', string.format('%s: swarm has %d items, not %d', id, s.c or 0, base))
end
local max = s.sw.mi or 0
if max > 0 and base + n > max then
  raise('STATE', string.format("%s: %d items would pass the swarm's cap of %d", id, base + n, max))
end
for i = 5, #ARGV, 2 do
  keep(ARGV[i], decode(ARGV[i], ARGV[i + 1]))
end
s.c = base + n
if max > 0 and s.c >= max then
  s.sw.cl = true
end
if s.s == 'active' and n > 0 then
  fanOut(s)
end
settle(s)
return finish(id)
