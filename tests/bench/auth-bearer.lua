-- auth-bearer.lua: wrk script for tests/bench/run-auth. Every request carries
-- "Authorization: Bearer $BENCH_TOKEN" (an access token from POST /api/token).
-- No response() callback: wrk then skips the per-response Lua call, so the
-- run costs wrk what a plain /healthz run costs and the two compare fairly.
local token = os.getenv("BENCH_TOKEN")
if token == nil or token == "" then
	io.stderr:write("auth-bearer.lua: BENCH_TOKEN is not set\n")
	os.exit(2)
end
wrk.headers["Authorization"] = "Bearer " .. token
