-- auth-basic.lua: wrk script for tests/bench/run-auth. Every request carries
-- "Authorization: Basic $BENCH_BASIC", where BENCH_BASIC is base64(user:password)
-- (Lua has no base64; the caller encodes). verdictd caches a verified Basic
-- credential for auth_cache_ttl seconds, so this measures the cached path
-- plus one argon2 verify per expiry.
local cred = os.getenv("BENCH_BASIC")
if cred == nil or cred == "" then
	io.stderr:write("auth-basic.lua: BENCH_BASIC is not set\n")
	os.exit(2)
end
wrk.headers["Authorization"] = "Basic " .. cred
