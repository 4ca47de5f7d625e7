-- bench/wrk/report.lua -- shared by the bench's wrk scripts (loaded with dofile): prints one line
--   BENCH_RESULT {"requests":..,"duration_us":..,"errors":{..},"latency_us":{"p50":..,"p99":..,..}}
-- that bench/bench.py parses. Status counts come from Apache's access log, not from here (a Lua response()
-- callback would slow wrk down and skew the comparison with the static baseline).

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"latency_us":{"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"max":%d}}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
