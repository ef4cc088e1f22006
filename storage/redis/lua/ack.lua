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
    -- the start of a task claimed ahead is owed until its run confirms
    -- the claim, or another takes it over (see Go)
    if not drop[d.k] or (x.ah and not d.cx and not d.sp and d.tg == id) then
      kept[#kept + 1] = d
    end
  end
  if #kept ~= #x.ob then
    x.ob = kept
    commit()
  end
end
return 1
