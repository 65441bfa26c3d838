-- wrk script: POSTs one JSON prediction request over and over, the same to every server.
-- Usage: wrk -s bench/predict.lua URL -- bench/requests/WORKLOAD.json

function init(args)
  local path = args[1]
  if path == nil then
    error("give the request body's file after --, e.g. -- bench/requests/echo.json")
  end
  local file = assert(io.open(path, "rb"))
  wrk.body = file:read("*a")
  file:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end
