-- wrk script of the status benchmark: GET /v1/clinicians/<id>/status for a
-- random id in BENCH_ID_MIN..BENCH_ID_MAX with BENCH_TOKEN as bearer token.
-- With BENCH_SKEW=1 the ids are drawn with a skew, as real lookups are:
-- nine requests in ten ask for one of the first 1 % of the ids.
-- done() prints one machine-readable line that scripts/bench parses:
--   BENCH requests=N duration_us=N rps=F p50_us=N p90_us=N p99_us=N
--         max_us=N errors=N non2xx=N
local lo = tonumber(os.getenv("BENCH_ID_MIN") or "1")
local hi = tonumber(os.getenv("BENCH_ID_MAX") or "100000")
local skew = os.getenv("BENCH_SKEW") == "1"
local hot = lo + math.max(1, math.floor((hi - lo + 1) / 100)) - 1
local headers = {
	["Authorization"] = "Bearer " .. (os.getenv("BENCH_TOKEN") or ""),
	["Accept"] = "application/json",
}

local threads = {}
local counter = 0

function setup(thread)
	counter = counter + 1
	thread:set("tid", counter)
	table.insert(threads, thread)
end

function init(args)
	-- a different, reproducible sequence of ids per wrk thread
	math.randomseed(1000 + (tid or 0))
end

function request()
	local id
	if skew and math.random(1, 10) <= 9 then
		id = math.random(lo, hot)
	else
		id = math.random(lo, hi)
	end
	return wrk.format("GET", "/v1/clinicians/" .. id .. "/status", headers)
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		"BENCH requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d " ..
		"p99_us=%d max_us=%d errors=%d non2xx=%d\n",
		summary.requests, summary.duration,
		summary.requests / (summary.duration / 1e6),
		latency:percentile(50), latency:percentile(90),
		latency:percentile(99), latency.max,
		e.connect + e.read + e.write + e.timeout, e.status))
end
