-- batch.lua: claims, completions and failures of one graph in one call,
-- each run as its own call would run it, in order, with the writes of all
-- made once at the end. ARGV: now, then per operation its name (claim,
-- complete, fail), the count of its arguments and the arguments of its
-- own call after now. Returns each operation's reply, in order. When an
-- operation raises an error the call writes nothing and raises
-- "BATCHOP <index from 0> <the error>": the caller answers that operation
-- with its error and sends the others again.
batching = true
local replies = {}
local i = 2
while i <= #ARGV do
  local op, n = batchable[ARGV[i]], tonumber(ARGV[i + 1])
  if not op or not n then
    raise('STATE', 'batch: no operation ' .. tostring(ARGV[i]))
  end
  local argv = {ARGV[1]}
  for j = 1, n do
    argv[j + 1] = ARGV[i + 1 + j]
  end
  i = i + 2 + n
  beginOp()
  local ok, res = pcall(op, KEYS, argv)
  if not ok then
    local msg = res
    if type(res) == 'table' then
      msg = res.err
    end
    error({err = 'BATCHOP ' .. #replies .. ' ' .. tostring(msg)})
  end
  replies[#replies + 1] = res
  if finished then
    endOp()
  else
    forget(opMark)
  end
end
commit()
return replies
