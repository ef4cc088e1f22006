-- lib.lua: the protocol of storage/transition, for Redis. The store loads
-- this file, its helpers and every operation's body as one Redis function
-- library (each body a function of its own); on servers without functions
-- each operation is a script of this file followed by its own body. The
-- whole graph lives in one hash, KEYS[1]; each field is a record id less
-- its root (fieldOf), each value a msgpack map.
-- ARGV[1] is the caller's clock in milliseconds. Writes are buffered and
-- made at the end, so a script that raises an error writes nothing.

local G, IDX, FLOWS, EXPS, NOW, ROOT
local cache, order, idof, had, staged, stagedPairs, seen
local out, cancels, stops, ended, swarms
local expireAt, expireExact, endsPaused, indexed
-- batching says the call runs a batch of operations (batch.lua): finish
-- leaves the writes to the batch's one commit, and says so in finished.
local batching, finished, opMark
-- emptied holds the records whose outbox the batch's operation under way
-- emptied; cleared, the ids of those an operation left empty, which the
-- calls one by one would drop from the owed index (see commit).
local emptied, cleared
-- ahead is the run for which finish claims the target of the operation's
-- lone dispatch (complete with a next run), for lease ms; claimedAhead
-- says it did.
local ahead, lease, claimedAhead
-- outcomes holds the outcome fields this call writes, dropped those it
-- deletes, as the containers' field prefixes and item counts (see
-- outcomeOf).
local outcomes, dropped

-- begin readies the per-call state for an operation on the graph in
-- keys[1], whose shard's index of owed records is keys[2], at the
-- caller's clock argv[1]. As a Redis function the library is loaded once
-- and its upvalues live on, so every call starts here.
local function begin(keys, argv)
  G = keys[1]
  IDX = keys[2]
  FLOWS = keys[3]
  EXPS = keys[4]
  NOW = tonumber(argv[1])
  ROOT = nil
  cache, order, idof, had, staged, stagedPairs, seen = {}, {}, {}, {}, nil, nil, {}
  out, cancels, stops, ended, swarms = {}, {}, {}, {}, nil
  expireAt, expireExact, endsPaused, indexed = nil, false, false, nil
  batching, finished, opMark = false, false, 0
  emptied, cleared = {}, {}
  ahead, lease, claimedAhead = nil, 0, false
  outcomes, dropped = {}, {}
end

-- beginOp readies the per-operation state for the next operation of a
-- batch; the records loaded, the records that ended and the expiry carry
-- over, as they would from one call to the next.
local function beginOp()
  out, cancels, stops, swarms = {}, {}, {}, nil
  endsPaused, finished, opMark = false, false, #order
  emptied = {}
  ahead, lease, claimedAhead = nil, 0, false
end

-- endOp notes, after an operation of a batch that finished, the records
-- whose outbox it left empty.
local function endOp()
  for _, x in ipairs(emptied) do
    if not x.ob and idof[x] then
      cleared[idof[x]] = true
    end
  end
end

local function raise(code, msg)
  error({err = code .. ' ' .. msg})
end

local function terminal(s)
  return s == 'done' or s == 'failed' or s == 'canceled'
end

local function paused(s)
  return s == 'suspended' or s == 'interrupted'
end

local function rootOf(id)
  return string.match(id, '^[^.]+')
end

-- place returns the parent, role and index an id encodes.
local function place(id)
  local p, last = string.match(id, '^(.*)%.([^.]+)$')
  if not p then
    return nil, 'root', 0
  end
  local c = string.sub(last, 1, 1)
  if c == 's' then
    return p, 'success', tonumber(string.sub(last, 2))
  elseif c == 'e' then
    return p, 'error', tonumber(string.sub(last, 2))
  end
  return p, 'child', tonumber(last)
end

-- fieldOf is the hash field of record id: the id without its root, which
-- the graph's key names ("" for the root, ".3" for its item 3).
local function fieldOf(id)
  local dot = string.find(id, '.', 1, true)
  if not dot then
    return ''
  end
  return string.sub(id, dot)
end

-- isOutcome says hash field f is an item's outcome (see outcomeOf), not
-- a record.
local function isOutcome(f)
  return string.byte(f, -1) == 61 -- '='
end

local function decode(id, raw)
  local ok, rec = pcall(cmsgpack.unpack, raw)
  if not ok or type(rec) ~= 'table' or (rec.k == nil and rec.n == nil) then
    raise('CORRUPT', G .. ' field ' .. id)
  end
  -- a task's kind and a pending status are left out (see pack)
  rec.k = rec.k or 'task'
  rec.s = rec.s or 'pending'
  return rec
end

-- pack encodes rec as stored, leaving out what decode puts back (as
-- wire.go does): a task's kind, a pending status, and the time of the
-- latest change while it is the creation time. A pending item of a wide
-- swarm keeps its name and creation time only.
local function pack(rec)
  local k, s, ua = rec.k, rec.s, rec.ua
  if k == 'task' then
    rec.k = nil
  end
  if s == 'pending' then
    rec.s = nil
  end
  if ua == rec.ca then
    rec.ua = nil
  end
  local raw = cmsgpack.pack(rec)
  rec.k, rec.s, rec.ua = k, s, ua
  return raw
end

-- keep puts rec in the working set under id.
local function keep(id, rec)
  cache[id] = rec
  idof[rec] = id
  had[id] = rec.ob ~= nil and #rec.ob > 0
  order[#order + 1] = id
  return rec
end

-- stored returns the stored value of record id: one staged by this call
-- (see stage), or the graph's.
local function stored(id)
  local raw = staged and staged[id]
  if raw then
    return raw
  end
  return redis.call('HGET', G, fieldOf(id))
end

-- get loads record id for change.
local function get(id)
  local r = cache[id]
  if r then
    return r
  end
  r = seen[id]
  if not r then
    local raw = stored(id)
    if not raw then
      raise('NOTFOUND', id)
    end
    r = decode(id, raw)
  end
  return keep(id, r)
end

-- peek reads record id without loading it for change (nil when it is
-- missing): a transition that only reads a record does not write it back.
-- The root it decodes it keeps in seen for the rest of the call (the
-- operations of a batch read it again and again; a swarm's end reads
-- every item once, which stays garbage); nothing changes a record it
-- returns unless get loads it first.
local function peek(id)
  local r = cache[id] or seen[id]
  if r then
    return r
  end
  local raw = stored(id)
  if raw then
    r = decode(id, raw)
    if id == ROOT then
      seen[id] = r
    end
  end
  return r
end

local function root()
  return get(ROOT)
end

local function orNull(v)
  if v == nil or v == '' then
    return 'null'
  end
  return v
end

local function childID(p, i) return p .. '.' .. i end
local function successID(p, i) return p .. '.s' .. i end
local function errorID(p, i) return p .. '.e' .. i end

local function taskPayload(args, v)
  if args == nil then
    return orNull(v)
  end
  return '{"args":' .. orNull(args) .. ',"in":' .. orNull(v) .. '}'
end

local function errorJSON(e)
  local t = {task = e.t or '', message = e.m or '', attempts = e.at or 0, kind = e.k or ''}
  if e.st and e.st ~= '' then
    t.stack = e.st
  end
  return cjson.encode(t)
end

local function failurePayload(input, e)
  return '{"input":' .. orNull(input) .. ',"error":' .. errorJSON(e) .. '}'
end

local function copyError(e)
  return {t = e.t, m = e.m, at = e.at, k = e.k, st = e.st}
end

-- outcomeFields returns the fields of the outcomes of items from to to-1
-- under field prefix (the container's field and ".").
local function outcomeFields(prefix, from, to)
  local fields = {}
  for j = from, to - 1 do
    fields[#fields + 1] = prefix .. j .. '='
  end
  return fields
end

-- outcomeOf is what the result of a swarm lists of its item x, index i,
-- once x ended: its result, or nothing for an item that did not end done;
-- a settled swarm lists every item's outcome (see Go). Each item that
-- ends notes its outcome in a field of its own, its field and "=", so that
-- the swarm's end reads short strings rather than every item's record.
local function outcomeOf(settled, x, i)
  if settled then
    if x.s == 'done' then
      return '{"index":' .. i .. ',"result":' .. orNull(x.re) .. '}'
    end
    local e = x.er or {t = x.n, m = 'item ' .. x.s}
    return '{"index":' .. i .. ',"error":' .. errorJSON(e) .. '}'
  elseif x.s == 'done' then
    return orNull(x.re)
  end
  return ''
end

local enter, start, complete, failNode, notifyParent, advance, settle

-- fanOut notes that swarm x, active, starts items now (the reply's sw).
local function fanOut(x)
  swarms = swarms or {} -- made only when a swarm starts
  swarms[#swarms + 1] = {id = idof[x], n = x.lb or x.n}
end

-- cancelRun decides that the backend run holding task x stops: the run is
-- in the reply's cancels and, until acknowledged, in the outbox.
local function cancelRun(x)
  cancels[#cancels + 1] = x.run
  stops[#stops + 1] = {k = 'cancel ' .. x.run, t = x.n, tg = idof[x], rt = ROOT, cx = x.run}
end

-- cancelFlows decides that the flows task x started inside it are
-- canceled with it: an entry owed until acknowledged.
local function cancelFlows(x)
  if x.k == 'task' and (x.sp or 0) > 0 then
    stops[#stops + 1] = {k = 'flows ' .. idof[x], t = x.n, tg = idof[x], rt = ROOT, sp = x.sp, ep = x.ep}
  end
end

-- take acknowledges the lone dispatches task x owes itself, which a claim
-- just took (or which a cancel or a new dispatch made moot): they leave
-- x's outbox, which the caller writes anyway (see Go).
local function take(x)
  local ob = x.ob
  if not ob or #ob == 0 then
    return
  end
  local id = idof[x]
  local kept = {}
  for _, d in ipairs(ob) do
    if d.cx or d.sp or d.tg ~= id then
      kept[#kept + 1] = d
    end
  end
  if #kept == 0 then
    x.ob = nil -- as commit stores an empty outbox (a batch reads it before)
    emptied[#emptied + 1] = x
  elseif #kept ~= #ob then
    x.ob = kept
  end
end

local function dispatch(x)
  local id = idof[x]
  take(x)
  x.g = (x.g or 0) + 1
  x.run = nil
  x.ah = nil
  x.h = nil
  out[#out + 1] = {k = id .. '#' .. x.g, t = x.n, tg = id, rt = ROOT, p = taskPayload(x.a, x['in']), at = x.at, ep = x.ep}
end

local function endNode(x)
  x.ea = NOW
  ended[#ended + 1] = idof[x]
  if x.k == 'swarm' then
    -- done, failed or stopped: its items' outcome notes go (see outcomeOf)
    dropped[#dropped + 1] = {fieldOf(idof[x]) .. '.', x.c or 0}
  end
  if x.en then
    local r = root()
    r.lv = (r.lv or 0) - 1
  end
end

-- cancelNode makes x Canceled unless it ended, adding the run of a
-- running task to cancels.
local function cancelNode(x)
  if terminal(x.s) then
    return
  end
  if x.k == 'task' and x.run and (x.s == 'active' or x.ls == 'active') then
    cancelRun(x)
  end
  take(x) -- a dispatch not yet delivered is moot
  x.ls, x.s = x.s, 'canceled'
  x.h = nil
  endNode(x)
end

-- stopNode cancels x and whatever under it has not ended (steps, items,
-- callbacks), adding the runs of its running tasks to cancels. No callback
-- of a stopped node fires, and no parent hears of it.
local function stopNode(x)
  cancelNode(x)
  cancelFlows(x)
  local id = idof[x]
  for i = 0, (x.c or 0) - 1 do
    stopNode(get(childID(id, i)))
  end
  for i = 0, (x.os or 0) - 1 do
    stopNode(get(successID(id, i)))
  end
  for i = 0, (x.oe or 0) - 1 do
    stopNode(get(errorID(id, i)))
  end
end

-- stopItems stops the items of swarm s that started and have not ended,
-- when s fails at its failure limit.
local function stopItems(s)
  local st = s.sw
  local id = idof[s]
  for i = 0, (st.nx or 0) - 1 do
    local item = get(childID(id, i))
    if not terminal(item.s) then
      stopNode(item)
      st.rn = (st.rn or 0) - 1
    end
  end
end

enter = function(x, v)
  if terminal(x.s) or x.en then
    return
  end
  local r = root()
  x['in'] = orNull(v)
  x.en = true
  r.lv = (r.lv or 0) + 1
  if paused(x.s) then
    x.ls = 'pending'
    x.h = true
    return
  end
  start(x)
end

start = function(x)
  x.h = nil
  if x.k == 'task' then
    x.s = 'pending'
    dispatch(x)
  elseif x.k == 'chain' then
    -- a chain starts at its cursor: 0, or the step a retry runs again,
    -- with the input that step had
    x.s = 'active'
    local cu = x.cu or 0
    local step = get(childID(idof[x], cu))
    local v = x['in']
    if cu > 0 then
      v = step['in']
    end
    enter(step, v)
  elseif x.k == 'swarm' then
    x.s = 'active'
    fanOut(x)
    settle(x)
  else
    raise('CORRUPT', G .. ' field ' .. idof[x] .. ' has kind ' .. tostring(x.k))
  end
end

complete = function(x, result)
  x.s = 'done'
  x.re = orNull(result)
  x.h = nil
  endNode(x)
  local id = idof[x]
  for i = 0, (x.os or 0) - 1 do
    enter(get(successID(id, i)), x.re)
  end
  notifyParent(x)
end

failNode = function(x, e)
  x.s = 'failed'
  x.er = e
  x.h = nil
  endNode(x)
  local id = idof[x]
  if (x.oe or 0) > 0 then
    local payload = failurePayload(x['in'], e)
    for i = 0, x.oe - 1 do
      enter(get(errorID(id, i)), payload)
    end
  end
  notifyParent(x)
end

notifyParent = function(x)
  local p, role, index = place(idof[x])
  if role ~= 'child' then
    return
  end
  local c = get(p)
  if c.k == 'chain' then
    if c.s == 'active' and index == (c.cu or 0) then
      advance(c)
    end
  elseif c.k == 'swarm' then
    local st = c.sw
    st.rn = (st.rn or 0) - 1
    if x.s == 'done' then
      st.dn = (st.dn or 0) + 1
    else
      st.fl = (st.fl or 0) + 1
      if x.er then
        st.le = copyError(x.er)
      end
    end
    outcomes[fieldOf(idof[x]) .. '='] = outcomeOf(st.se, x, index)
    settle(c)
  else
    raise('CORRUPT', G .. ' field ' .. p .. ' is a ' .. tostring(c.k) .. ', not a container')
  end
end

advance = function(c)
  local id = idof[c]
  local cu = c.cu or 0
  local step = get(childID(id, cu))
  if step.s == 'done' then
    if cu + 1 < (c.c or 0) then
      c.cu = cu + 1
      enter(get(childID(id, cu + 1)), step.re)
    else
      complete(c, step.re)
    end
  elseif step.s == 'failed' then
    failNode(c, copyError(step.er or {m = 'step failed'}))
  end
end

settle = function(s)
  if s.s ~= 'active' then
    return
  end
  local st = s.sw
  local id = idof[s]
  local lim = st.sf or 0
  if lim > 0 and (st.fl or 0) >= lim then
    local e = {t = s.n}
    if st.le then
      e = copyError(st.le)
    end
    e.m = string.format('swarm stopped at its limit of %d failed items; last: %s', lim, e.m or '')
    e.k = 'swarm'
    e.st = nil
    stopItems(s)
    failNode(s, e)
    return
  end
  local conc = st.mc or 0
  if conc <= 0 then
    conc = 30
  end
  local n = s.c or 0
  while (st.rn or 0) < conc and (st.nx or 0) < n do
    local item = get(childID(id, st.nx or 0))
    st.nx = (st.nx or 0) + 1
    if item.s ~= 'done' then -- a done one is kept from before a retry
      st.rn = (st.rn or 0) + 1
      enter(item, s['in'])
    end
  end
  if st.cl and (st.dn or 0) + (st.fl or 0) == n then
    -- every item's outcome, from its outcome field where its record is
    -- not loaded (see outcomeOf), which goes with the swarm's end
    local results = {}
    local prefix = fieldOf(id) .. '.'
    -- the items this call loaded, by index (few), found without making
    -- every item's id
    local loaded = {}
    for _, oid in ipairs(order) do
      local p, role, idx = place(oid)
      if p == id and role == 'child' then
        loaded[idx] = cache[oid]
      end
    end
    local vals
    for i = 0, n - 1 do
      local k = i % 256
      if k == 0 then
        vals = redis.call('HMGET', G, unpack(outcomeFields(prefix, i, math.min(i + 256, n))))
      end
      local o = vals[k + 1]
      local item = loaded[i]
      if item or not o then
        if not item then
          local cid = childID(id, i)
          item = peek(cid)
          if not item then
            raise('NOTFOUND', cid)
          end
        end
        o = outcomeOf(st.se, item, i)
      end
      if o ~= '' then
        results[#results + 1] = o
      end
    end
    complete(s, '[' .. table.concat(results, ',') .. ']') -- drops the notes
  end
end

-- The retry of an ended graph (see Go, transition/retry.go).
local retryUnder, revive, reviveChild, reset

-- newEpoch starts a new epoch of task x that started flows (see Go).
local function newEpoch(x)
  if (x.sp or 0) > 0 then
    x.ep = (x.ep or 0) + 1
    x.sp = nil
  end
end

-- resetCallbacks resets every callback of x, unentered.
local function resetCallbacks(x)
  local id = idof[x]
  for i = 0, (x.os or 0) - 1 do
    reset(get(successID(id, i)))
  end
  for i = 0, (x.oe or 0) - 1 do
    reset(get(errorID(id, i)))
  end
end

-- reset makes x and everything under it unentered pending nodes, as they
-- were stored.
reset = function(x)
  if x.s == 'pending' and not x.en then
    return
  end
  newEpoch(x)
  x.s, x.ls = 'pending', nil
  x.en, x.h = nil, nil
  x['in'], x.re, x.er = nil, nil, nil
  x.run, x.ah = nil, nil
  x.at = nil
  x.cu = nil
  x.ea = nil
  local st = x.sw
  if st then
    st.nx, st.rn, st.dn, st.fl, st.le = 0, 0, 0, 0, nil
  end
  local id = idof[x]
  for i = 0, (x.c or 0) - 1 do
    reset(get(childID(id, i)))
  end
  resetCallbacks(x)
end

-- retryUnder runs again the failed callbacks under x, a node that keeps
-- its end (with stopped, canceled ones too: x is a done part of a revived
-- container), and returns how many it entered.
retryUnder = function(x, stopped)
  local n = 0
  local id = idof[x]
  for i = 0, (x.c or 0) - 1 do
    local c = get(childID(id, i))
    if c.en then
      n = n + retryUnder(c, stopped and x.s == 'done')
    end
  end
  local cbs = {}
  for i = 0, (x.os or 0) - 1 do
    cbs[#cbs + 1] = successID(id, i)
  end
  for i = 0, (x.oe or 0) - 1 do
    cbs[#cbs + 1] = errorID(id, i)
  end
  for _, cid in ipairs(cbs) do
    local cb = get(cid)
    if not cb.en then
      -- never fired
    elseif cb.s == 'failed' or (stopped and cb.s == 'canceled') then
      revive(cb)
      enter(cb, cb['in'])
      n = n + 1
    elseif cb.s == 'done' then
      n = n + retryUnder(cb, stopped)
    end
  end
  return n
end

-- revive readies failed or stopped node x to continue from where it
-- stopped once it is entered.
revive = function(x)
  newEpoch(x)
  x.s, x.ls = 'pending', nil
  x.en, x.h = nil, nil
  x.er = nil
  x.run, x.ah = nil, nil
  x.at = nil
  x.ea = nil
  local id = idof[x]
  if x.k == 'chain' then
    local cu = x.cu or 0
    for i = 0, (x.c or 0) - 1 do
      reviveChild(get(childID(id, i)), i < cu)
    end
  elseif x.k == 'swarm' then
    local st = x.sw
    local nx = st.nx or 0
    local first = -1
    for i = 0, (x.c or 0) - 1 do
      local item = get(childID(id, i))
      if item.s ~= 'done' and first < 0 and i < nx then
        first = i
      end
      reviveChild(item, item.s == 'done')
    end
    if first >= 0 then
      st.nx = first
    end
    st.rn, st.fl, st.le = 0, 0, nil
  end
  resetCallbacks(x)
end

-- reviveChild readies step or item c of a revived container.
reviveChild = function(c, kept)
  if kept then
    retryUnder(c, true)
  elseif c.en or c.s == 'failed' then
    revive(c)
  else
    reset(c)
  end
end

-- retryGraph runs again what failed in the ended graph of root r.
local function retryGraph(r)
  if r.s == 'canceled' then
    raise('STATE', ROOT .. ': retry: graph is canceled')
  elseif not r.fi then
    raise('STATE', ROOT .. ': retry: graph has not ended')
  end
  local n = 0
  if r.s == 'failed' then
    revive(r)
    enter(r, r['in'])
    n = 1
  else
    n = retryUnder(r, false)
  end
  if n == 0 then
    raise('STATE', ROOT .. ': retry: nothing failed')
  end
  r.fi = nil
end

-- hset writes field-value pairs in batches.
local function hset(args)
  local n = #args
  local i = 1
  while i <= n do
    local j = math.min(i + 999, n)
    redis.call('HSET', G, unpack(args, i, j))
    i = j + 1
  end
end

-- stage takes the encoded records of id/value pairs as stored values of
-- this call, written by commit (so a call that raises writes nothing).
local function stage(kv)
  staged, stagedPairs = {}, kv
  for i = 1, #kv, 2 do
    staged[kv[i]] = kv[i + 1]
  end
end

-- indexExpiry notes that the graph expires ttl (ms) from now, drops from
-- the shard's index of flows a few graphs that expired, and makes both
-- indexes live as long as the longest-lived graph of the shard. While a
-- graph runs its expiry slides with each transition: the note is renewed
-- only when it lags more than a slack (a sixteenth of the TTL, at most a
-- minute) behind, so that the transitions in between cost one read (and
-- the indexes may expire up to that slack before a shard's last graph,
-- never after it); a graph that ended (exact) is noted as it is.
local function indexExpiry(ttl, exact)
  -- the caller's clock (as every time the store keeps): a worker's skew
  -- moves a graph's index entry by as much
  local now = NOW
  local at = now + ttl
  local slack = math.min(math.floor(ttl / 16), 60000)
  if exact then
    slack = 0
  end
  local cur = tonumber(redis.call('ZSCORE', EXPS, ROOT))
  if cur and cur <= at and at - cur <= slack then
    return
  end
  if not cur and not indexed then
    -- noted nowhere: the shard's indexes expired in the slack before
    -- this graph (it was idle that long): it joins the index again
    local r = cache[ROOT] or peek(ROOT)
    if r and r.ca then
      redis.call('ZADD', FLOWS, 'NX', r.ca, ROOT)
    end
  end
  redis.call('ZADD', EXPS, at, ROOT)
  local gone = redis.call('ZRANGEBYSCORE', EXPS, '-inf', now, 'LIMIT', 0, 8)
  for _, id in ipairs(gone) do
    redis.call('ZREM', EXPS, id)
    redis.call('ZREM', FLOWS, id)
  end
  local last = redis.call('ZRANGE', EXPS, -1, -1, 'WITHSCORES')
  if last[2] then
    redis.call('PEXPIREAT', EXPS, last[2])
    redis.call('PEXPIREAT', FLOWS, last[2])
  end
end

-- commit writes every loaded record back and the staged ones, sets the
-- expiry, and keeps the shard's index of owed records in step with the
-- outboxes. A record that ended is announced on the graph's channel:
-- sharded pub/sub where the server has it, else plain (before Redis 7).
local function commit()
  local args = {}
  local added = false
  if staged then
    local kv = stagedPairs
    for i = 1, #kv, 2 do
      if not cache[kv[i]] then
        args[#args + 1] = fieldOf(kv[i])
        args[#args + 1] = kv[i + 1]
      end
    end
  end
  for _, id in ipairs(order) do
    local r = cache[id]
    if r.ob and #r.ob == 0 then
      r.ob = nil
    end
    if r.ob and not had[id] then
      redis.call('ZADD', IDX, 'NX', NOW, id)
      added = true
    elseif r.ob and cleared[id] then
      -- an earlier operation of the batch emptied the outbox, a later
      -- one filled it: owed since now, as the calls one by one leave it
      redis.call('ZADD', IDX, NOW, id)
      added = true
    elseif had[id] and not r.ob then
      redis.call('ZREM', IDX, id)
    end
    args[#args + 1] = fieldOf(id)
    args[#args + 1] = pack(r)
  end
  for f, v in pairs(outcomes) do
    args[#args + 1] = f
    args[#args + 1] = v
  end
  hset(args)
  for _, d in ipairs(dropped) do
    for i = 0, d[2] - 1, 1000 do
      redis.call('HDEL', G, unpack(outcomeFields(d[1], i, math.min(i + 1000, d[2]))))
    end
  end
  if indexed then
    -- a new graph joins the index of flows, by creation time
    redis.call('ZADD', FLOWS, indexed, ROOT)
  end
  if expireAt then
    redis.call('PEXPIRE', G, expireAt)
    if EXPS then
      indexExpiry(expireAt, expireExact)
    end
  end
  if added then
    -- the index lives at least as long as the graph of its newest entry
    -- (due.lua extends it for the entries it hands out)
    local ttl = expireAt or redis.call('PTTL', G)
    if redis.call('PTTL', IDX) < ttl then
      redis.call('PEXPIRE', IDX, ttl)
    end
  end
  for _, id in ipairs(ended) do
    local r = redis.pcall('SPUBLISH', G .. ':ended', id)
    if type(r) == 'table' and r.err then
      if not string.find(string.lower(r.err), 'unknown') then
        error(r)
      end
      redis.call('PUBLISH', G .. ':ended', id)
    end
  end
end

-- unpauseUnentered puts the records a graph that finished while paused
-- never entered back to pending (see Go).
local function unpauseUnentered()
  local all = redis.call('HGETALL', G)
  for i = 1, #all, 2 do
    local id = ROOT .. all[i]
    local x = not isOutcome(all[i]) and (cache[id] or decode(id, all[i + 1]))
    if x and not x.en and paused(x.s) then
      if not cache[id] then
        keep(id, x)
      end
      x.s = 'pending'
    end
  end
end

-- claimAhead claims the target of the operation's lone dispatch for run
-- ahead, when it is set and a claim would take the target (see Go).
local function claimAhead()
  if not ahead or #cancels > 0 then
    return
  end
  local d = out[1]
  local t = get(d.tg)
  if t.k ~= 'task' or t.s ~= 'pending' or not t.en or t.run or t.h then
    return
  end
  t.s = 'active'
  t.run = ahead
  t.ah = NOW + lease
  t.at = (t.at or 0) + 1
  d.rn = ahead
  claimedAhead = true
end

-- leaseOver says task x holds a claim made ahead whose lease ended (see
-- Go).
local function leaseOver(x)
  return x.ah ~= nil and NOW >= x.ah
end

-- confirmAhead makes the claim of task x made ahead its run's own: its
-- dispatch, in its own outbox, is owed no more (see Go).
local function confirmAhead(x)
  if x.ah then
    x.ah = nil
    take(x)
  end
end

-- finish writes the decided dispatches to source's outbox, sets the
-- graph's expiry, commits, and returns the effects.
local function finish(source)
  if #out == 1 and #stops == 0 then
    -- a lone dispatch is owed by its target until the target's claim
    local s = get(source)
    s.lo = out[1].tg
    source = s.lo
    claimAhead()
  end
  if #out + #stops > 0 then
    local s = get(source)
    s.ob = s.ob or {}
    for _, d in ipairs(out) do
      s.ob[#s.ob + 1] = d
    end
    for _, d in ipairs(stops) do
      s.ob[#s.ob + 1] = d
    end
  end
  -- The root is read for the expiry; it is written only if this
  -- transition changed it, or ends the graph now.
  local r = peek(ROOT)
  if not r then
    raise('NOTFOUND', ROOT)
  end
  local endsNow = false
  if r.fi then
    -- ended before: the expiry stays
  elseif terminal(r.s) and (r.lv or 0) <= 0 then
    if not cache[ROOT] then
      keep(ROOT, r)
    end
    r.fi = true
    if endsPaused then
      unpauseUnentered()
    end
    expireAt, expireExact = r.td, true
    endsNow = true
  else
    expireAt = r.ta
  end
  -- the records this operation loaded (those of a batch's earlier
  -- operations have their stamp)
  for k = opMark + 1, #order do
    cache[order[k]].ua = NOW
  end
  if batching then
    finished = true -- the batch commits once, after its last operation
  else
    commit()
  end
  local reply = {src = source, d = out, c = cancels}
  if claimedAhead then
    reply.cl = ahead
  end
  if endsNow then
    -- this transition ended the graph: its root, as it ended
    reply.en = r
  end
  if swarms then
    -- the swarms it started, for the engine's middlewares
    reply.sw = swarms
  end
  for _, e in ipairs(stops) do
    if e.sp then
      reply.fw = reply.fw or {}
      reply.fw[#reply.fw + 1] = e
    end
  end
  return cmsgpack.pack(reply)
end

-- forget drops from the working set the records loaded after the first
-- mark of order: an operation of a batch that returned without finish
-- (a claim dropped or duplicate, a replay) changed none of them, and as a
-- call of its own it would write none.
local function forget(mark)
  for k = #order, mark + 1, -1 do
    local id = order[k]
    idof[cache[id]] = nil
    cache[id], had[id], order[k] = nil, nil, nil
  end
end

-- owed returns the entries of outbox ob still owed: every cancel, and the
-- dispatches still waited for. A dispatch whose target was since claimed,
-- held, ended or dispatched again is owed no more, even if no Ack removed
-- it. It reads, and writes nothing.
local function owed(ob)
  local kept = {}
  for _, d in ipairs(ob or {}) do
    local t = nil
    if d.cx or d.sp then
      kept[#kept + 1] = d
    else
      t = peek(d.tg)
    end
    if t then
      local key = d.k == d.tg .. '#' .. (t.g or 0)
      if t.ah and (t.s == 'active' or (paused(t.s) and t.ls == 'active')) then
        -- claimed ahead, and not confirmed by its run
        if key then
          kept[#kept + 1] = d
        end
      else
        local waiting = t.s == 'pending' or (t.s == 'suspended' and t.ls == 'pending')
        if waiting and t.en and not t.run and not t.h and key then
          kept[#kept + 1] = d
        end
      end
    end
  end
  return kept
end

-- effectsFrom returns the effects outbox entries ob of record id stand
-- for: starts and stops.
local function effectsFrom(id, ob)
  local d, c, fw = {}, {}, {}
  for _, e in ipairs(ob) do
    if e.cx then
      c[#c + 1] = e.cx
    elseif e.sp then
      fw[#fw + 1] = e
    else
      d[#d + 1] = e
    end
  end
  local reply = {src = id, d = d, c = c}
  if #fw > 0 then
    reply.fw = fw
  end
  if ahead and #d == 1 and #c == 0 then
    -- a replay of complete with a next run: the claim it made, if still
    -- ahead (see Go)
    local t = peek(d[1].tg)
    if t and t.s == 'active' and t.ah and t.run == ahead and NOW < t.ah then
      reply.cl = ahead
    end
  end
  return cmsgpack.pack(reply)
end

-- lone returns the lone dispatch of x's latest transition, if its target
-- still waits for it (see Go).
local function lone(x)
  if not x.lo then
    return nil
  end
  local t = peek(x.lo)
  if not t then
    return nil
  end
  for _, d in ipairs(t.ob or {}) do
    if not d.cx and not d.sp and d.tg == x.lo and #owed({d}) == 1 then
      return d
    end
  end
  return nil
end

-- withLone returns ob, what x's outbox owes, with the lone dispatch of x's
-- latest transition after it if its target still waits for it (see Go).
local function withLone(x, ob)
  local d = lone(x)
  if not d then
    return ob
  end
  local all = {}
  for i, e in ipairs(ob) do
    all[i] = e
  end
  all[#all + 1] = d
  return all
end

-- effectsOf returns the effects still owed by x's outbox, or, when it owes
-- nothing, the lone dispatch of x's latest transition (see Go).
local function effectsOf(id, x)
  local ob = owed(x.ob)
  if #ob == 0 then
    local d = lone(x)
    if d then
      return effectsFrom(d.tg, {d})
    end
    return effectsFrom(id, ob)
  end
  return effectsFrom(id, withLone(x, ob))
end

-- segment returns the rank of an id segment's role (a child 0, a success
-- callback 1, an error callback 2) and its index, or nil for another
-- segment (a root id).
local function segment(s)
  local rank, rest = 0, s
  local c = string.sub(s, 1, 1)
  if c == 's' then
    rank, rest = 1, string.sub(s, 2)
  elseif c == 'e' then
    rank, rest = 2, string.sub(s, 2)
  end
  if #rest == 0 or #rest > 9 or not string.match(rest, '^%d+$') then
    return nil
  end
  return rank, tonumber(rest)
end

-- before orders the ids of one graph as transition.ComparePlace does:
-- parents first, by depth, then place by place.
local function before(a, b)
  local _, da = string.gsub(a, '%.', '')
  local _, db = string.gsub(b, '%.', '')
  if da ~= db then
    return da < db
  end
  local ia, ib = 1, 1
  while true do
    local ea = string.find(a, '.', ia, true)
    local eb = string.find(b, '.', ib, true)
    local sa = string.sub(a, ia, ea and ea - 1 or -1)
    local sb = string.sub(b, ib, eb and eb - 1 or -1)
    local ra, na = segment(sa)
    local rb, nb = segment(sb)
    if ra == nil or rb == nil then
      if sa ~= sb then
        return sa < sb
      end
    elseif ra ~= rb then
      return ra < rb
    elseif na ~= nb then
      return na < nb
    end
    if not ea or not eb then
      return false
    end
    ia, ib = ea + 1, eb + 1
  end
end
