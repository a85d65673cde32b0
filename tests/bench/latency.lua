-- latency.lua: wrk prints p50/p95/p99 (ms) and the non-2xx count on one line
-- that run-feedback parses. Headers come from wrk -H.
local non2xx = 0

response = function(status, headers, body)
	if status < 200 or status > 299 then
		non2xx = non2xx + 1
	end
end

done = function(summary, latency, requests)
	io.write(string.format("LATENCY p50=%.3f p95=%.3f p99=%.3f requests=%d non2xx=%d\n",
		latency:percentile(50) / 1000, latency:percentile(95) / 1000,
		latency:percentile(99) / 1000, summary.requests, non2xx))
end
