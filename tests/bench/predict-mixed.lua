-- predict-mixed.lua: wrk script for tests/bench/run-predict. A bearer-authenticated
-- single-row POST /api/models/$MODEL/predict for the synthetic flights model of
-- make-predict-model.py: raw fields, i.e. numbers, a category (one_hot in the
-- spec) and an ISO 8601 datetime (hour, day_of_week, month in the spec).
-- env: TOKEN (access token, required), MODEL (registered model name, required).
-- No response() callback: wrk then skips the per-response Lua call.
local token, model = os.getenv("TOKEN"), os.getenv("MODEL")
if token == nil or token == "" or model == nil or model == "" then
	io.stderr:write("predict-mixed.lua: TOKEN and MODEL must be set\n")
	os.exit(2)
end
wrk.method = "POST"
wrk.path = "/api/models/" .. model .. "/predict"
wrk.body = '{"inputs":{"distance":1234.5,"passengers":180,"temperature":-3.5,' ..
	'"origin":"ORD","departure":"2024-12-20T17:45:00Z"}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
