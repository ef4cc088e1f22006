-- start.lua: StartGraph. ARGV: now, root id, input.
local id = ARGV[2]
ROOT = rootOf(id)
local r = get(id)
if place(id) ~= nil then
  raise('STATE', id .. ': start: not a root')
end
if r.en or terminal(r.s) then
  raise('STATE', id .. ': start: graph already started (' .. r.s .. ')')
end
enter(r, ARGV[3])
return finish(id)
