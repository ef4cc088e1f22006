-- apply.lua: Apply. ARGV: now, root id, operation.
ROOT = ARGV[2]
local op = ARGV[3]
local r = get(ROOT)
if place(ROOT) ~= nil then
  raise('STATE', ROOT .. ': ' .. op .. ': not a root')
end
if op == 'retry' then
  retryGraph(r)
  return finish(ROOT)
end
if r.fi then
  -- a root that ended while its graph was paused still has callbacks to
  -- resume or cancel: only an ended graph is refused
  raise('STATE', ROOT .. ': ' .. op .. ': graph is ' .. r.s)
end
local all = redis.call('HGETALL', G)
local recs = {}
for i = 1, #all, 2 do
  if not isOutcome(all[i]) then
    local id = ROOT .. all[i]
    recs[#recs + 1] = cache[id] or keep(id, decode(id, all[i + 1]))
  end
end
-- parents first, in the order of transition.ComparePlace
table.sort(recs, function(a, b)
  return before(idof[a], idof[b])
end)

if op == 'suspend' then
  for _, x in ipairs(recs) do
    if x.s == 'pending' or x.s == 'active' then
      x.ls, x.s = x.s, 'suspended'
    end
  end
elseif op == 'interrupt' then
  for _, x in ipairs(recs) do
    local changed = true
    if x.s == 'pending' or x.s == 'active' then
      x.ls, x.s = x.s, 'interrupted'
    elseif x.s == 'suspended' then
      x.s = 'interrupted'
    else
      changed = false
    end
    if changed and x.k == 'task' and x.ls == 'active' and x.run then
      cancelRun(x)
    end
  end
elseif op == 'resume' then
  local acts = {}
  local any = false
  for _, x in ipairs(recs) do
    if paused(x.s) then
      any = true
      if x.k == 'task' and x.s == 'interrupted' and (x.ls == 'active' or (x.ls == 'pending' and (x.g or 0) > 0 and x.en)) then
        -- its run was stopped, or its dispatch may not have been
        -- delivered: it is dispatched again
        x.s = 'pending'
        acts[#acts + 1] = {x = x, run = true}
      elseif x.h then
        x.s = 'pending'
        acts[#acts + 1] = {x = x, run = true}
      elseif x.ls == 'active' and x.k ~= 'task' then
        x.s = 'active'
        acts[#acts + 1] = {x = x, run = false}
      else
        x.s = x.ls
      end
    end
  end
  if not any then
    raise('STATE', ROOT .. ': resume: graph is not paused')
  end
  for _, a in ipairs(acts) do
    local x = a.x
    if terminal(x.s) then
      -- ended by an earlier action
    elseif a.run and x.k == 'task' then
      dispatch(x)
    elseif a.run then
      start(x)
    elseif x.k == 'chain' then
      advance(x)
    elseif x.k == 'swarm' then
      if x.s == 'active' then
        fanOut(x)
      end
      settle(x)
    end
  end
elseif op == 'cancel' then
  for _, x in ipairs(recs) do
    cancelNode(x)
    cancelFlows(x)
  end
else
  raise('STATE', ROOT .. ': unknown operation ' .. op)
end
return finish(ROOT)
