-- bench/wrk/request.lua -- one fixed request per scenario, built once (no per-request Lua):
--   BENCH_METHOD        GET (default) or POST
--   BENCH_BODY          request body (POST); sent with Content-Type: application/json
--   BENCH_COOKIE        Cookie header (e.g. "accessToken=...; logged_in=true")
--   BENCH_WRK_DIR       directory of this script (to load report.lua)
-- The URL (with path and query) is wrk's command-line argument.
dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/report.lua")

wrk.method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY")
if body and body ~= "" then
   wrk.body = body
   wrk.headers["Content-Type"] = "application/json"
elseif wrk.method == "POST" then
   wrk.headers["Content-Type"] = "application/json"
end
local cookie = os.getenv("BENCH_COOKIE")
if cookie and cookie ~= "" then
   wrk.headers["Cookie"] = cookie
end
