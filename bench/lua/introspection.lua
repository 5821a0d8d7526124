-- Introspection of a pool of access tokens by the resource-server client (Basic authentication).
local common = dofile("lua/common.lua")
local bodies, i = {}, 0
function init(args)
  for _, token in ipairs(common.lines(os.getenv("BENCH_DATA") .. "/access.txt")) do bodies[#bodies + 1] = "token=" .. token end
  i = math.random(#bodies)
end
function request()
  i = i % #bodies + 1
  return wrk.format("POST", nil, { ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = "Basic " .. os.getenv("BENCH_API_BASIC") }, bodies[i])
end
done = common.done
