-- predict-demo.lua: wrk script for tests/bench/run-scrape. A bearer-authenticated
-- single-row POST /api/models/$MODEL/predict for the synthetic flights model
-- (tests/bench/flights-spec.json): a number, a one-hot category and a datetime.
-- env: TOKEN (access token, required), MODEL (registered model name, required).
local token, model = os.getenv("TOKEN"), os.getenv("MODEL")
if token == nil or token == "" or model == nil or model == "" then
	io.stderr:write("predict-demo.lua: TOKEN and MODEL must be set\n")
	os.exit(2)
end
wrk.method = "POST"
wrk.path = "/api/models/" .. model .. "/predict"
wrk.body = '{"inputs":{"distance":1234.5,"origin":"JFK","departure":"2024-12-20 17:45"}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
