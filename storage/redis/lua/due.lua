-- due.lua: Due, for one shard. KEYS[1] is the shard's index of owed
-- records (KEYS[2] too: begin wants both). ARGV: now, the latest time an
-- entry may have to be due (ms), how many to return, the prefix of the
-- shard's graph keys. Each entry returned is due again from now on;
-- entries whose graph expired are dropped.
local cutoff, n, base = tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local ids = redis.call('ZRANGEBYSCORE', G, '-inf', cutoff, 'LIMIT', 0, n)
local due = {}
for _, id in ipairs(ids) do
  if redis.call('HEXISTS', base .. rootOf(id), id) == 1 then
    redis.call('ZADD', G, 'XX', NOW, id)
    due[#due + 1] = id
  else
    redis.call('ZREM', G, id)
  end
end
return due
