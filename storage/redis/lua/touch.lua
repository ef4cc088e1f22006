-- touch.lua: Touch. ARGV: now, root id. Sets the graph's expiry to its
-- active TTL from now, unless it ended; writes no record.
ROOT = ARGV[2]
local r = peek(ROOT)
if not r then
  raise('NOTFOUND', ROOT)
end
if place(ROOT) ~= nil then
  raise('STATE', ROOT .. ': touch: not a root')
end
if not r.fi then
  expireAt = r.ta
end
commit()
return 1
