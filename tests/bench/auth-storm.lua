-- auth-storm.lua: wrk script for tests/bench/run-auth. A login storm: every
-- request is an OAuth2 password grant (POST /api/token, form-encoded) for a
-- fresh, nonexistent username with a wrong password, so the per-username
-- lockout never applies; verdictd verifies against its dummy hash (argon2id)
-- until the per-address lockout or the hash concurrency bound answers first.
-- done() prints the status-code mix, one "STATUS <code> <count>" line each,
-- plus "STATUS other" for codes outside 200/401/429/503.
local threads = {}
local next_id = 0

function setup(thread)
	next_id = next_id + 1
	thread:set("tid", next_id)
	table.insert(threads, thread)
end

function init(args)
	counts = {}
	seq = 0
	math.randomseed(os.time() * 1000 + tid * 7919 + math.floor(os.clock() * 1e6))
	prefix = string.format("nx%d%x", tid, math.random(0, 0x7fffffff))
	headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
end

function request()
	seq = seq + 1
	local body = string.format(
		"grant_type=password&username=%s-%d-%x&password=wrong+horse+battery+%d",
		prefix, seq, math.random(0, 0x7fffffff), seq)
	return wrk.format("POST", "/api/token", headers, body)
end

function response(status, hdrs, body)
	local k = tostring(status)
	counts[k] = (counts[k] or 0) + 1
end

function done(summary, latency, requests)
	local total = {}
	for _, t in ipairs(threads) do
		local c = t:get("counts")
		if c then
			for k, v in pairs(c) do total[k] = (total[k] or 0) + v end
		end
	end
	local other = 0
	for k, v in pairs(total) do
		if k ~= "200" and k ~= "401" and k ~= "429" and k ~= "503" then
			other = other + v
			io.write(string.format("STATUS_CODE %s %d\n", k, v))
		end
	end
	for _, k in ipairs({ "200", "401", "429", "503" }) do
		io.write(string.format("STATUS %s %d\n", k, total[k] or 0))
	end
	io.write(string.format("STATUS other %d\n", other))
end
