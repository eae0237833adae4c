-- wrk script of the status benchmark: GET /v1/clinicians/<id>/status for a
-- random id in BENCH_ID_MIN..BENCH_ID_MAX with BENCH_TOKEN as bearer token.
-- With BENCH_SKEW=1 the ids are drawn with a skew, as real lookups are:
-- nine requests in ten ask for one of the first 1 % of the ids.
-- With BENCH_WRITERS (a file of clinician ids, one a line) and
-- BENCH_WRITE_PCT, that share of the requests instead record a written
-- exam (POST /v1/exam-results) of level BENCH_LEVEL, dated BENCH_TODAY,
-- for one of those clinicians (scripts/bench.d/mix.sql).
-- With BENCH_DELAY_US (microseconds), each connection waits a random
-- time of that mean (exponential: arrivals as independent users make
-- them) before each request: a paced load of about connections / (delay +
-- latency) requests a second, below what the server can do, so the
-- latencies measured are the service's, not a queue's (scripts/bench
-- calibrates the delay to a target rate).
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
local post_headers = {
	["Authorization"] = headers["Authorization"],
	["Accept"] = "application/json",
	["Content-Type"] = "application/json",
}
local write_pct = tonumber(os.getenv("BENCH_WRITE_PCT") or "0")
local level = os.getenv("BENCH_LEVEL") or "BX1"
local today = os.getenv("BENCH_TODAY") or ""
local writers = {}
local wfile = os.getenv("BENCH_WRITERS")
if wfile and wfile ~= "" then
	for line in io.lines(wfile) do
		local id = tonumber(line)
		if id then table.insert(writers, id) end
	end
end

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

local delay_us = tonumber(os.getenv("BENCH_DELAY_US") or "0")
if delay_us > 0 then
	function delay()
		-- wrk's delay is in whole milliseconds: round at random so that
		-- the mean is kept
		local ms = -math.log(1 - math.random()) * delay_us / 1000
		local whole = math.floor(ms)
		if math.random() < ms - whole then whole = whole + 1 end
		return whole
	end
end

function request()
	local id
	if write_pct > 0 and #writers > 0 and math.random() * 100 < write_pct then
		id = writers[math.random(1, #writers)]
		return wrk.format("POST", "/v1/exam-results", post_headers,
			'{"clinician_id":' .. id .. ',"level":"' .. level ..
			'","kind":"written","score":50,"max_score":100,"taken_on":"' ..
			today .. '"}')
	end
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
