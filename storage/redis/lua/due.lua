-- due.lua: Due, for one shard. KEYS[1] is the shard's index of owed
-- records (KEYS[2] too: begin wants both). ARGV: now, the latest time an
-- entry may have to be due (ms), how many to return, the prefix of the
-- shard's graph keys. Each entry returned is due again from now on;
-- entries whose graph expired are dropped, and the index lives at least
-- as long as the graphs of the others.
local cutoff, n, base = tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local ids = redis.call('ZRANGEBYSCORE', G, '-inf', cutoff, 'LIMIT', 0, n)
local due = {}
local ttl = 0
for _, id in ipairs(ids) do
  local g = base .. rootOf(id)
  if redis.call('HEXISTS', g, fieldOf(id)) == 1 then
    redis.call('ZADD', G, 'XX', NOW, id)
    due[#due + 1] = id
    ttl = math.max(ttl, redis.call('PTTL', g))
  else
    redis.call('ZREM', G, id)
  end
end
-- the index lives at least as long as the graphs of the entries still owed
if ttl > 0 and redis.call('PTTL', G) < ttl then
  redis.call('PEXPIRE', G, ttl)
end
return due
