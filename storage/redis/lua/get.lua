-- get.lua: Get. ARGV: now, record id. Returns the record and the graph's
-- remaining time to live in milliseconds.
local id = ARGV[2]
local raw = redis.call('HGET', G, id)
if not raw then
  raise('NOTFOUND', id)
end
return {raw, redis.call('PTTL', G)}
