-- claim.lua: Claim. ARGV: now, task id, run id.
local id, run = ARGV[2], ARGV[3]
ROOT = rootOf(id)
local x = get(id)
if x.k ~= 'task' then
  raise('STATE', id .. ': not a task but a ' .. tostring(x.k))
end
local function reply(o, ob)
  local r = x
  if ob then
    -- the record as the reply shows it: x itself stays as it is stored
    r = {}
    for k, v in pairs(x) do
      r[k] = v
    end
    r.ob = ob
  end
  return cmsgpack.pack({o = o, r = r})
end
local outcome = 'claimed'
if x.s == 'done' or x.s == 'failed' then
  return reply('ended', withLone(x, owed(x.ob))) -- resent; the target's claim takes the lone one
elseif x.s == 'canceled' then
  return reply('dropped')
elseif paused(x.s) then
  if (x.g or 0) == 0 or not x.en then
    return reply('dropped')
  end
  if x.ls == 'active' and x.run ~= run and not leaseOver(x) then
    -- the holder still runs (see Go)
    return reply('duplicate')
  end
  x.ls = 'pending'
  x.run = nil
  x.ah = nil
  x.h = true
  outcome = 'held'
  take(x)
elseif x.s == 'pending' then
  if (x.g or 0) == 0 or not x.en then
    return reply('dropped')
  end
  x.s = 'active'
  x.run = run
  x.at = (x.at or 0) + 1
  take(x)
elseif x.s == 'active' then
  if x.run ~= run and not leaseOver(x) then
    return reply('duplicate')
  end
  if x.run ~= run then
    -- a claim made ahead whose lease is over, taken over (see Go)
    x.run = run
  else
    x.at = (x.at or 0) + 1 -- a retry, or a delivery again of the attempt
  end
  -- of a claim made ahead, the run's first claim of its own (see Go)
  confirmAhead(x)
end
finish(id)
if outcome == 'claimed' then
  return cmsgpack.pack({o = outcome}) -- the run needs no record
end
return reply(outcome)
