-- predict-row.lua: wrk script for tests/bench/run-predict. A bearer-authenticated
-- POST /api/models/$MODEL/predict with rows of the FastAPI peer's breast-cancer
-- model (raw fields f0..f29, the row the peer's predict.lua sends).
-- env: TOKEN (access token, required), MODEL (registered model name, required),
--      ROWS  1 (default): {"inputs": {...}}, the peer's row as is;
--            N > 1: {"instances": [...]} with N rows, the peer's row scaled
--            by deterministic factors within +-5 % (so rows differ)
--      EXPLAIN=1 adds "explain": true (SHAP contributions per field)
-- No response() callback: wrk then skips the per-response Lua call.
local token, model = os.getenv("TOKEN"), os.getenv("MODEL")
if token == nil or token == "" or model == nil or model == "" then
	io.stderr:write("predict-row.lua: TOKEN and MODEL must be set\n")
	os.exit(2)
end
local nrows = tonumber(os.getenv("ROWS") or "1") or 1
local base = {17.99,10.38,122.8,1001,0.1184,0.2776,0.3001,0.1471,0.2419,0.07871,1.095,0.9053,8.589,153.4,0.006399,
              0.04904,0.05373,0.01587,0.03003,0.006193,25.38,17.33,184.6,2019,0.1622,0.6656,0.7119,0.2654,0.4601,0.1189}

local function row(k)
	local f = {}
	for i, v in ipairs(base) do
		if k > 0 then v = v * (1 + ((k * 7 + i) % 11 - 5) / 100) end
		f[#f + 1] = string.format('"f%d":%.7g', i - 1, v)
	end
	return "{" .. table.concat(f, ",") .. "}"
end

local body
if nrows <= 1 then
	body = '{"inputs":' .. row(0)
else
	local rows = {}
	for k = 1, nrows do rows[k] = row(k) end
	body = '{"instances":[' .. table.concat(rows, ",") .. "]"
end
if os.getenv("EXPLAIN") == "1" then body = body .. ',"explain":true' end
wrk.method = "POST"
wrk.path = "/api/models/" .. model .. "/predict"
wrk.body = body .. "}"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
