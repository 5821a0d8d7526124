-- Password grant over a pool of users (users.txt: "name<TAB>password"), public client "bench-spa".
local common = dofile("lua/common.lua")
local bodies, i = {}, 0
function init(args)
  for _, line in ipairs(common.lines(os.getenv("BENCH_DATA") .. "/users.txt")) do
    local name, password = line:match("([^\t]+)\t(.+)")
    bodies[#bodies + 1] = "grant_type=password&client_id=bench-spa&scope=openid%20offline_access&username="
      .. common.urlencode(name) .. "&password=" .. common.urlencode(password)
  end
  i = math.random(#bodies)
end
function request()
  i = i % #bodies + 1
  return wrk.format("POST", nil, { ["Content-Type"] = "application/x-www-form-urlencoded" }, bodies[i])
end
done = common.done
