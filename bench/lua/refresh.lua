-- refresh_token grant where every request is a first use: each thread holds a queue of fresh refresh tokens, sends the
-- oldest, and queues the successor from the response (refresh-<thread>.txt holds each thread's starting tokens).
local common = dofile("lua/common.lua")
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
-- An explicit tail: with consumed entries set to nil, Lua's # operator is unreliable on this table.
local queue, head, tail = {}, 1, 0
function init(args)
  queue = common.lines(os.getenv("BENCH_DATA") .. "/refresh-" .. id .. ".txt")
  tail = #queue
end
function request()
  local token = queue[head]
  queue[head] = nil
  head = head + 1
  return wrk.format("POST", nil, { ["Content-Type"] = "application/x-www-form-urlencoded" },
    "grant_type=refresh_token&client_id=bench-spa&refresh_token=" .. (token or "exhausted"))
end
local failures = 0
function response(status, headers, body)
  local successor = body:match('"refresh_token"%s*:%s*"([^"]+)"')
  if successor then tail = tail + 1; queue[tail] = successor
  elseif failures < 3 and os.getenv("BENCH_DEBUG") then failures = failures + 1; io.stderr:write(status .. " " .. body .. "\n") end
end
done = common.done
