-- owed.lua: Owed. ARGV: now, record id. Returns the effects the record's
-- outbox still owes, and drops from it the entries owed no more.
local id = ARGV[2]
ROOT = rootOf(id)
local x = get(id)
local kept = owed(x.ob)
if #kept ~= #(x.ob or {}) then
  x.ob = kept
  commit()
elseif #kept == 0 then
  -- an entry left for a record that owes nothing (an id reused after its
  -- graph expired) goes
  redis.call('ZREM', IDX, id)
end
return effectsFrom(id, withLone(x, kept))
