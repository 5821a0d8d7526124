-- client_credentials with client_secret_basic; BENCH_CLIENT_BASIC is the base64 of id:secret, BENCH_CC_SCOPE the scope (api1).
local common = dofile("lua/common.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BENCH_CLIENT_BASIC")
wrk.body = "grant_type=client_credentials&scope=" .. (os.getenv("BENCH_CC_SCOPE") or "api1")
done = common.done
