-- ack.lua: Ack. ARGV: now, record id, keys.
local id = ARGV[2]
ROOT = rootOf(id)
local x = get(id)
if x.ob and #ARGV > 2 then
  local drop = {}
  for i = 3, #ARGV do
    drop[ARGV[i]] = true
  end
  local kept = {}
  for _, d in ipairs(x.ob) do
    if not drop[d.k] then
      kept[#kept + 1] = d
    end
  end
  if #kept ~= #x.ob then
    x.ob = kept
    commit()
  end
end
return 1
