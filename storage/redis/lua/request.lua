-- request.lua: Request. KEYS[1] is the list of lifecycle requests. ARGV:
-- now, the request ("<op> <root> <deadline ms>"), its time to live (ms).
-- The list lives as long as the latest deadline of what it holds.
redis.call('LPUSH', G, ARGV[2])
local ttl = tonumber(ARGV[3])
if redis.call('PTTL', G) < ttl then
  redis.call('PEXPIRE', G, ttl)
end
return 1
