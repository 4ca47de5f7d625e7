-- bench/wrk/refresh.lua -- auth.refreshAccessToken, each request with the refresh token of a different,
-- never-refreshed session (seeded by bench/bench.py, one token per line in BENCH_TOKENS_FILE), so every call
-- takes the normal rotation path (generation 0 -> 1). wrk cannot follow Set-Cookie per connection (its Lua
-- response() sees only the last of several Set-Cookie headers), hence the pre-seeded tokens. Thread i of n uses
-- lines i, i+n, i+2n, ...; a thread that runs out starts over, and the replayed tokens then hit the reuse
-- grace window (still 200) or, after it, reuse detection (401, counted as errors) -- seed more sessions than
-- the run can refresh.
dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/report.lua")

local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
local counter = 0

function setup(thread)
   thread:set("thread_index", counter)
   counter = counter + 1
end

local tokens = {}
local pos = 1
local path

function init(args)
   local i = 0
   for line in io.lines(os.getenv("BENCH_TOKENS_FILE")) do
      if i % nthreads == thread_index then
         tokens[#tokens + 1] = line
      end
      i = i + 1
   end
   path = wrk.path
end

function request()
   local t = tokens[pos]
   pos = pos + 1
   if pos > #tokens then pos = 1 end
   return wrk.format("POST", path,
                     { ["Content-Type"] = "application/json", ["Cookie"] = "refreshToken=" .. t }, "")
end
