-- userinfo with a pool of bearer tokens.
local common = dofile("lua/common.lua")
local tokens, i = {}, 0
function init(args)
  tokens = common.lines(os.getenv("BENCH_DATA") .. "/access.txt")
  i = math.random(#tokens)
end
function request()
  i = i % #tokens + 1
  return wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. tokens[i] })
end
done = common.done
