-- create.lua: CreateGraph. ARGV: now, root id, start ("1" or "0"), input,
-- active TTL (ms), done TTL (ms), then id/record pairs, the root first.
ROOT = ARGV[2]
if redis.call('HEXISTS', G, fieldOf(ROOT)) == 1 then
  raise('EXISTS', ROOT)
end
local args = {}
for i = 9, #ARGV, 2 do
  args[#args + 1] = ARGV[i]
  args[#args + 1] = ARGV[i + 1]
end
stage(args)
local r = keep(ROOT, decode(ROOT, ARGV[8]))
-- commit adds it to the index of flows, by creation time, and notes its
-- expiry
indexed = r.ca or NOW
r.ta = tonumber(ARGV[5])
r.td = tonumber(ARGV[6])
if ARGV[3] == '1' then
  enter(r, ARGV[4])
end
return finish(ROOT)
