#!/usr/bin/env python3
"""bench/bench.py -- the body of bench/run (which brings the stack up first and then runs this).

Seeds the bench stack, runs every scenario with wrk, and writes bench/results/latest.{json,md}
(--smoke: bench/results/smoke.{json,md}). Standard library only. See bench/README.
"""
import argparse
import base64
import concurrent.futures as cf
import datetime
import http.client
import json
import os
import platform
import re
import resource
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
EMAIL_DOMAIN = "bench.invalid"
PASSWORD = "bench password 1"          # every seeded user (a cost-4 hash: seeding logins are cheap)
LOGIN_PASSWORD = "bench login password" # the auth.login user, registered through the module (configured cost)


def log(msg):
    print("bench: " + msg, flush=True)


def die(msg):
    print("bench: error: " + msg, file=sys.stderr, flush=True)
    sys.exit(1)


# ------------------------------------------------------------------------------------------------ environment
class Env:
    def __init__(self, smoke):
        self.smoke = smoke
        raw = os.environ.get("TRPCAUTH_STATE_DIR", ".devstack-bench")
        self.state = raw if raw.startswith("/") else os.path.join(ROOT, raw)
        self.port = int(os.environ.get("TRPCAUTH_PORT", "28180"))
        self.pg_port = int(os.environ.get("TRPCAUTH_PG_PORT", "24481"))
        self.redis_port = int(os.environ.get("TRPCAUTH_REDIS_PORT", "24482"))
        self.base = "http://127.0.0.1:%d" % self.port
        # bench.conf's second server, on the next port: the same, with TrpcAuthSessionCache Off
        self.nocache_port = int(os.environ.get("TRPCAUTH_BENCH_NOCACHE_PORT", str(self.port + 1)))
        self.nocache_base = "http://127.0.0.1:%d" % self.nocache_port
        self.psql_bin = "/usr/lib/postgresql/15/bin/psql"
        self.access_log = os.path.join(self.state, "logs", "access_log")

    def psql(self, sql, stdin=None):
        out = subprocess.run([self.psql_bin, "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                              "-p", str(self.pg_port), "-U", "trpcauth", "-d", "trpcauth", "-c", sql],
                             input=stdin, capture_output=True, text=True)
        if out.returncode != 0:
            die("psql failed: %s\n%s" % (sql[:200], out.stderr))
        return out.stdout.strip()

    def redis(self, *args):
        out = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(self.redis_port)] + list(args),
                             capture_output=True, text=True)
        if out.returncode != 0:
            die("redis-cli %s failed: %s" % (" ".join(args), out.stderr))
        return out.stdout.strip()

    def redis_info(self, section):
        d = {}
        for line in self.redis("INFO", section).splitlines():
            if ":" in line and not line.startswith("#"):
                k, v = line.split(":", 1)
                d[k] = v.strip()
        return d

    def pidfile(self, path):
        try:
            with open(path) as f:
                return int(f.readline().strip())
        except (OSError, ValueError):
            return None


# ------------------------------------------------------------------------------------------------ HTTP client
class Client:
    """A keep-alive HTTP/1.1 client for seeding and single calls."""

    def __init__(self, port):
        self.port = port
        self.conn = None

    def call(self, method, path, body=None, cookie=None):
        headers = {}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if cookie:
            headers["Cookie"] = cookie
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                r = self.conn.getresponse()
                data = r.read()
                return r.status, r.headers, data
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise RuntimeError("unreachable")


def cookies_of(headers):
    jar = {}
    for c in headers.get_all("Set-Cookie") or []:
        nv = c.split(";", 1)[0]
        if "=" in nv:
            k, v = nv.split("=", 1)
            jar[k.strip()] = v.strip()
    return jar


def login(client, email, password):
    st, h, body = client.call("POST", "/trpc/auth.login", json.dumps({"email": email, "password": password}))
    if st != 200:
        raise RuntimeError("login %s: HTTP %d %s" % (email, st, body[:300]))
    return cookies_of(h)


# --------------------------------------------------------------------------------------------- process stats
CLK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK      # utime + stime, seconds
    except (OSError, IndexError, ValueError):
        return 0.0


def children_of(ppid):
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == ppid:
                kids.append(int(d))
        except (OSError, IndexError, ValueError):
            pass
    return kids


def machine_busy():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return (sum(v) - idle) / CLK, sum(v) / CLK


class Snapshot:
    def __init__(self, env):
        self.t = time.monotonic()
        apache = env.pidfile(os.path.join(env.state, "run", "httpd.pid"))
        pg = env.pidfile(os.path.join(env.state, "pg", "postmaster.pid"))
        redis = env.pidfile(os.path.join(env.state, "run", "redis.pid"))
        self.cpu = {
            "apache": sum(proc_cpu(p) for p in ([apache] + children_of(apache) if apache else [])),
            "postgres": sum(proc_cpu(p) for p in ([pg] + children_of(pg) if pg else [])),
            "redis": proc_cpu(redis) if redis else 0.0,
        }
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.cpu["wrk"] = ru.ru_utime + ru.ru_stime
        self.busy, self.total = machine_busy()
        try:
            self.log_offset = os.path.getsize(env.access_log)
        except OSError:
            self.log_offset = 0
        cs = env.redis_info("commandstats")
        self.redis_calls = sum(int(re.search(r"calls=(\d+)", v).group(1)) for v in cs.values())
        self.redis_usec = sum(int(re.search(r"usec=(\d+)", v).group(1)) for v in cs.values())
        self.pg_sessions = int(env.psql("select coalesce(sum(sessions),0) from pg_stat_database "
                                        "where datname = 'trpcauth'") or 0)


def statuses_between(env, start, end):
    counts = {}
    with open(env.access_log, "rb") as f:
        f.seek(start)
        data = f.read(max(0, end - start)).decode("latin-1")
    for m in re.finditer(r'" (\d{3}) ', data):
        counts[m.group(1)] = counts.get(m.group(1), 0) + 1
    return counts


# ------------------------------------------------------------------------------------------------------- seed
def seed(env, cfg):
    log("resetting bench data (users *@%s, Redis FLUSHDB of the bench's private Redis)" % EMAIL_DOMAIN)
    env.psql("delete from users where email like '%%@%s'" % EMAIL_DOMAIN)
    env.psql("delete from transactions where user_id not in (select id from users)")
    env.redis("FLUSHDB")

    hashed = subprocess.run(["htpasswd", "-nbB", "-C", "4", "x", PASSWORD], capture_output=True,
                            text=True, check=True).stdout.strip().split(":", 1)[1]
    c = Client(env.port)

    # The auth.login user: registered through the module, so its hash has the configured cost.
    st, _, body = c.call("POST", "/trpc/auth.register",
                         json.dumps({"email": "login@" + EMAIL_DOMAIN, "password": LOGIN_PASSWORD}))
    if st != 200:
        die("auth.register of the login user failed: HTTP %d %s" % (st, body[:300]))
    login_hash = env.psql("select password from users where email = 'login@%s'" % EMAIL_DOMAIN)
    cost = int(login_hash.split("$")[2])

    names = ["r20", "r2000", "create", "many", "noise"] + ["s%04d" % i for i in range(cfg["session_users"])]
    values = ",".join("('%s@%s', '%s')" % (n, EMAIL_DOMAIN, hashed) for n in names)
    env.psql("insert into users (email, password) values " + values)
    ids = dict(l.split("|") for l in env.psql(
        "select split_part(email,'@',1), id from users where email like '%%@%s'" % EMAIL_DOMAIN).splitlines())

    def rows(uid, n):
        env.psql("insert into transactions (amount, txn_type, summary, tag, user_id, created_at, updated_at) "
                 "select (g * 37) %% 100000, (case when g %% 3 = 0 then 'Incoming' else 'Outgoing' end)::\"txnType\", "
                 "'bench row ' || g, (array['Food','Travel','Shopping','Investment','Salary','Bill','Others'])"
                 "[1 + g %% 7]::tag, %s, now() - g * interval '1 minute', now() - g * interval '1 minute' "
                 "from generate_series(1, %d) g" % (uid, n))

    rows(ids["r20"], 20)
    rows(ids["r2000"], 2000)
    env.psql("analyze users; analyze transactions")
    log("users seeded: r20 (20 rows), r2000 (2000 rows), create, many, %d session users; login user at cost %d"
        % (cfg["session_users"], cost))

    # Seeded users log in on the second server (TrpcAuthBcryptCost 4, as their hashes): on the main server a
    # login would rehash them to cost 12, and every later login would cost a cost-12 bcrypt.
    seeder = Client(env.nocache_port)
    jars = {n: login(seeder, "%s@%s" % (n, EMAIL_DOMAIN), PASSWORD) for n in ("r20", "r2000", "create")}
    seeded_cost = int(env.psql("select password from users where email = 'r20@%s'" % EMAIL_DOMAIN).split("$")[2])
    if seeded_cost != 4:
        die("a seeded user's login rehashed its password to cost %d: the second server of bench.conf must have "
            "TrpcAuthBcryptCost 4, or seeding takes half an hour" % seeded_cost)

    # Redis memory per session: used_memory before/after N logins spread over the session users.
    before = env.redis_info("memory")
    keys_before = int(env.redis("DBSIZE"))
    n_sessions = cfg["session_users"] * cfg["sessions_per_user"]
    emails = ["s%04d@%s" % (i % cfg["session_users"], EMAIL_DOMAIN) for i in range(n_sessions)]
    t0 = time.monotonic()
    tokens = parallel_logins(env, emails, PASSWORD, 8)
    t_seed = time.monotonic() - t0
    after = env.redis_info("memory")
    keys_after = int(env.redis("DBSIZE"))
    sess_keys = len([k for k in env.redis("--scan", "--pattern", "*}:s:*").splitlines() if k])
    delta = int(after["used_memory"]) - int(before["used_memory"])
    sample_key = env.redis("--scan", "--pattern", "*{u:%s}:s:*" % ids["s0000"]).splitlines()[0]
    index_key = env.redis("--scan", "--pattern", "*{u:%s}:sessions" % ids["s0000"]).splitlines()[0]
    redis_mem = {
        "sessions_created": len(tokens), "session_keys": sess_keys, "users": cfg["session_users"],
        "used_memory_before": int(before["used_memory"]), "used_memory_after": int(after["used_memory"]),
        "keys_before": keys_before, "keys_after": keys_after,
        "bytes_per_session": round(delta / max(1, len(tokens)), 1),
        "memory_usage_session_hash": int(env.redis("MEMORY", "USAGE", sample_key, "SAMPLES", "0") or 0),
        "memory_usage_index_zset": int(env.redis("MEMORY", "USAGE", index_key, "SAMPLES", "0") or 0),
        "seed_logins_per_s": round(len(tokens) / t_seed, 1),
    }
    log("%d sessions in %.1f s; Redis used_memory +%d bytes = %.0f bytes/session"
        % (len(tokens), t_seed, delta, redis_mem["bytes_per_session"]))
    tokens_file = os.path.join(env.state, "bench-refresh-tokens.txt")
    with open(tokens_file, "w") as f:
        f.write("\n".join(t for t in tokens if t) + "\n")

    # The logoutAll user: many sessions of one user.
    many = parallel_logins(env, ["many@" + EMAIL_DOMAIN] * cfg["many_sessions"], PASSWORD, 8, want="access")
    jars["many"] = {"accessToken": many[-1]}
    log("user 'many' has %s sessions" % env.redis("ZCARD", index_key.replace("{u:%s}" % ids["s0000"],
                                                                            "{u:%s}" % ids["many"])))
    return {"ids": ids, "jars": jars, "cost": cost, "tokens_file": tokens_file, "redis": redis_mem,
            "many_index": index_key.replace("{u:%s}" % ids["s0000"], "{u:%s}" % ids["many"])}


def parallel_logins(env, emails, password, workers, want="refresh"):
    """Logs every email in (in parallel, keep-alive, on the cost-4 second server: see seed) and returns the
    refresh (or access) tokens."""
    chunks = [emails[i::workers] for i in range(workers)]

    def run(chunk):
        c = Client(env.nocache_port)
        out = []
        for e in chunk:
            jar = login(c, e, password)
            out.append(jar.get("refreshToken" if want == "refresh" else "accessToken"))
        return out

    with cf.ThreadPoolExecutor(workers) as ex:
        return [t for part in ex.map(run, chunks) for t in part]


def cookie_header(jar):
    return "; ".join("%s=%s" % (k, v) for k, v in jar.items() if k in ("accessToken", "logged_in"))


# -------------------------------------------------------------------------------------------------- scenarios
def wrk(env, cfg, url, extra_env, conns, duration, script="request.lua", threads=2):
    e = dict(os.environ)
    e.update(extra_env)
    e["BENCH_WRK_DIR"] = os.path.join(BENCH, "wrk")
    e["BENCH_THREADS"] = str(min(threads, conns))
    cmd = ["wrk", "-t", str(min(threads, conns)), "-c", str(conns), "-d", "%ds" % duration, "--timeout", "10s",
           "-s", os.path.join(BENCH, "wrk", script), url]
    out = subprocess.run(cmd, env=e, capture_output=True, text=True)
    m = re.search(r"^BENCH_RESULT (.*)$", out.stdout, re.M)
    if out.returncode != 0 or not m:
        return None, " ".join(shlex.quote(x) for x in cmd), out.stdout + out.stderr
    return json.loads(m.group(1)), " ".join(shlex.quote(x) for x in cmd), out.stdout


def probe(env, method, path, body=None, cookie=None, port=None):
    try:
        st, h, data = Client(port or env.port).call(method, path, body, cookie)
        return st, data.decode("utf-8", "replace")
    except Exception as ex:       # noqa: BLE001 -- a probe reports, it does not fail the run
        return 0, str(ex)


def quiesce(env, limit=15.0):
    """Waits until Apache's access log stops growing (0.3 s without a new line)."""
    end = time.monotonic() + limit
    last, stable = -1, 0
    while time.monotonic() < end and stable < 3:
        size = os.path.getsize(env.access_log)
        stable = stable + 1 if size == last else 0
        last = size
        time.sleep(0.1)


def run_scenario(env, cfg, sc):
    conns = sc.get("conns", cfg["conns"])
    if cfg["warmup"] and sc.get("warmup", True):
        wrk(env, cfg, sc.get("base", env.base) + sc["path"], sc["env"], conns, cfg["warmup"], sc.get("script", "request.lua"))
        quiesce(env)
    # A scenario with a ratio target is also measured against its own baseline: rounds of the static file and
    # the scenario in turn, a few seconds each, with the median of the per-round ratios. On a shared machine
    # the static rate drifts by 10-20 % over the minutes of a run and swings within seconds; pairs taken
    # back to back, several times, see the same machine.
    pairs = []
    if cfg.get("paired") and ("target" in sc or sc.get("paired")):
        url = sc.get("base", env.base) + sc["path"]
        for _ in range(cfg["pair_rounds"]):
            a, _, _ = wrk(env, cfg, env.base + "/bench/static/1k.txt", {"BENCH_METHOD": "GET", "BENCH_COOKIE": ""},
                          conns, cfg["paired"])
            b, _, _ = wrk(env, cfg, url, sc["env"], conns, cfg["paired"], sc.get("script", "request.lua"))
            if a and b and a["requests"] and b["requests"]:
                ra = a["requests"] / (a["duration_us"] / 1e6)
                rb = b["requests"] / (b["duration_us"] / 1e6)
                pairs.append((round(ra, 1), round(rb / ra, 3)))
        quiesce(env)
    rot0 = int(env.psql("select count(*) from auth_events where event = 'refresh'")) \
        if sc["name"] == "refresh" else 0
    s0 = Snapshot(env)
    res, cmd, raw = wrk(env, cfg, sc.get("base", env.base) + sc["path"], sc["env"], conns, cfg["duration"],
                        sc.get("script", "request.lua"))
    quiesce(env)      # requests still in flight when wrk stopped (slow logins) belong to this scenario
    s1 = Snapshot(env)
    if sc["name"] == "refresh":
        rotations = int(env.psql("select count(*) from auth_events where event = 'refresh'")) - rot0
    out = {"name": sc["name"], "title": sc["title"], "expect": sc["expect"], "connections": conns,
           "duration_s": cfg["duration"], "command": cmd}
    if res is None:
        out.update({"status": "failed", "detail": raw[-2000:]})
        return out
    statuses = statuses_between(env, s0.log_offset, s1.log_offset)
    n = res["requests"]
    expected_ok = statuses.get(str(sc["expect"]), 0)
    unexpected = sum(v for k, v in statuses.items() if k != str(sc["expect"]))
    sock = sum(res["errors"][k] for k in ("connect", "read", "write", "timeout"))
    secs = res["duration_us"] / 1e6
    per_req = lambda k: round((s1.cpu[k] - s0.cpu[k]) / max(1, n) * 1e6, 1)
    wall = s1.t - s0.t
    busy = s1.busy - s0.busy
    ours = sum(s1.cpu[k] - s0.cpu[k] for k in s1.cpu)
    out.update({
        "status": "ok",
        "requests": n,
        "rps": round(n / secs, 1),
        "p50_ms": round(res["latency_us"]["p50"] / 1000, 2),
        "p90_ms": round(res["latency_us"]["p90"] / 1000, 2),
        "p99_ms": round(res["latency_us"]["p99"] / 1000, 2),
        "max_ms": round(res["latency_us"]["max"] / 1000, 2),
        "socket_errors": sock,
        "wrk_status_errors": res["errors"]["status"],
        "http_statuses": statuses,
        "expected_status_count": expected_ok,
        "unexpected_status_count": unexpected,
        "errors": sock + unexpected,
        "cpu_us_per_req": {k: per_req(k) for k in ("apache", "postgres", "redis", "wrk")},
        "redis_calls_per_req": round((s1.redis_calls - s0.redis_calls) / max(1, n), 2),
        "redis_usec_per_req": round((s1.redis_usec - s0.redis_usec) / max(1, n), 1),
        "pg_new_sessions": s1.pg_sessions - s0.pg_sessions,
        "machine_busy_cores": round(busy / wall, 2),
        "other_load_cores": round(max(0.0, busy - ours) / wall, 2),
    })
    if pairs:
        out["pairs"] = [{"static_rps": a, "ratio": r} for a, r in pairs]
        out["adjacent_static_rps"] = sorted(a for a, _ in pairs)[len(pairs) // 2]
        out["ratio_adjacent"] = sorted(r for _, r in pairs)[len(pairs) // 2]
    if sc["name"] == "refresh":
        out["rotations"] = rotations
        out["note"] = ("%d of %d requests rotated a fresh session's token; the rest replayed a token rotated "
                       "less than TrpcAuthRefreshReuseGrace ago (grace path: same checks, no rotation write, "
                       "no audit row)" % (rotations, n))
    return out


def scenarios(env, cfg, data, avail):
    j = data["jars"]
    r20, r2000, create = cookie_header(j["r20"]), cookie_header(j["r2000"]), cookie_header(j["create"])
    get = lambda cookie: {"BENCH_METHOD": "GET", "BENCH_COOKIE": cookie}
    post = lambda body, cookie="": {"BENCH_METHOD": "POST", "BENCH_BODY": body, "BENCH_COOKIE": cookie}
    batch_input = urllib.parse.quote('{"0":{},"1":{}}', safe="")
    L = [
        {"name": "static", "title": "static 1 KiB, unprotected (baseline)", "path": "/bench/static/1k.txt",
         "env": get(""), "expect": 200},
        {"name": "protected_on", "title": "static 1 KiB, AuthType trpcauth, default configuration (session "
         "check On, session cache)", "path": "/bench/on/1k.txt", "env": get(r20), "expect": 200, "needs": "authn",
         "target": 0.90},
        {"name": "protected_on_nocache", "title": "static 1 KiB, AuthType trpcauth, SessionCheck On, "
         "TrpcAuthSessionCache Off (one HGET per request)", "base": env.nocache_base, "path": "/bench/on/1k.txt",
         "env": get(r20), "expect": 200, "needs": "nocache", "paired": True},
        {"name": "protected_off", "title": "static 1 KiB, AuthType trpcauth, SessionCheck Off",
         "path": "/bench/off/1k.txt", "env": get(r20), "expect": 200, "needs": "authn", "target": 0.95},
        {"name": "me", "title": "auth.me", "path": "/trpc/auth.me", "env": get(r20), "expect": 200},
        {"name": "getall_20", "title": "transaction.getAll, 20 rows", "path": "/trpc/transaction.getAll",
         "env": get(r20), "expect": 200, "target": 0.55},
        {"name": "getall_2000", "title": "transaction.getAll, 2 000 rows", "path": "/trpc/transaction.getAll",
         "env": get(r2000), "expect": 200},
        {"name": "create", "title": "transaction.create", "path": "/trpc/transaction.create",
         "env": post('{"amount":1250,"txnType":"Outgoing","summary":"bench","tag":"Food"}', create),
         "expect": 200, "target": 0.10},
        {"name": "batch", "title": "batch auth.me,transaction.getAll (20 rows)",
         "path": "/trpc/auth.me,transaction.getAll?batch=1&input=" + batch_input, "env": get(r20),
         "expect": 200},
        {"name": "refresh", "title": "auth.refreshAccessToken (rotation)", "path": "/trpc/auth.refreshAccessToken",
         "env": {"BENCH_TOKENS_FILE": data["tokens_file"]}, "script": "refresh.lua", "expect": 200,
         "needs": "refresh", "warmup": False},
        {"name": "login", "title": "auth.login (bcrypt cost %d)" % data["cost"], "path": "/trpc/auth.login",
         "env": post(json.dumps({"email": "login@" + EMAIL_DOMAIN, "password": LOGIN_PASSWORD})),
         "expect": 200, "conns": cfg["login_conns"], "warmup": False},
        {"name": "unauth", "title": "auth.me without cookie -> 401", "path": "/trpc/auth.me", "env": get(""),
         "expect": 401, "target": 0.70},
        {"name": "getall_20_noise", "title": "transaction.getAll, 20 rows, +%d other users' rows"
         % cfg["noise_rows"], "path": "/trpc/transaction.getAll", "env": get(r20), "expect": 200,
         "before": "noise", "paired": True},
    ]
    return L


def detect(env, data):
    j = data["jars"]
    avail = {}
    st, body = probe(env, "GET", "/bench/on/1k.txt")
    st2, _ = probe(env, "GET", "/bench/on/1k.txt", cookie=cookie_header(j["r20"]))
    avail["authn"] = (st == 401 and st2 == 200, "unauthenticated %d, with cookie %d" % (st, st2))
    st, _ = probe(env, "GET", "/bench/on/1k.txt", port=env.nocache_port)
    st2, _ = probe(env, "GET", "/bench/on/1k.txt", cookie=cookie_header(j["r20"]), port=env.nocache_port)
    avail["nocache"] = (st == 401 and st2 == 200, "port %d: unauthenticated %d, with cookie %d"
                        % (env.nocache_port, st, st2))
    st, body = probe(env, "POST", "/trpc/auth.refreshAccessToken", body="")
    avail["refresh"] = (st != 404 and "NOT_FOUND" not in body, "no cookie: HTTP %d" % st)
    st, body = probe(env, "POST", "/trpc/auth.logoutAll", body="")
    avail["logoutAll"] = (st != 404 and "NOT_FOUND" not in body, "no cookie: HTTP %d" % st)
    st, body = probe(env, "GET", "/trpc/transaction.getAll", cookie=cookie_header(j["r20"]))
    n20 = len(json.loads(body)["result"]["data"]) if st == 200 else -1
    st, body = probe(env, "GET", "/trpc/transaction.getAll", cookie=cookie_header(j["r2000"]))
    n2000 = len(json.loads(body)["result"]["data"]) if st == 200 else -1
    if n20 != 20 or n2000 != 2000:
        die("getAll sanity check failed: %d and %d rows (want 20 and 2000)" % (n20, n2000))
    return avail


def add_noise(env, data, n):
    log("adding %d transactions of another user (getAll must not slow down)" % n)
    env.psql("insert into transactions (amount, txn_type, summary, tag, user_id, created_at) "
             "select g %% 1000, 'Outgoing', 'noise ' || g, 'Bill', %s, now() - g * interval '1 second' "
             "from generate_series(1, %d) g" % (data["ids"]["noise"], n))
    env.psql("analyze transactions")
    plan = env.psql("explain select t.id from users u left join transactions t on t.user_id = u.id "
                    "where u.id = %s order by t.created_at desc, t.id desc" % data["ids"]["r20"])
    return plan


# ------------------------------------------------------------------------------------ revocation by another node
class RawHTTP:
    """One keep-alive connection speaking just enough HTTP/1.1 to send GETs on many connections at once."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.f = self.sock.makefile("rb")

    def send(self, path, cookie):
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: %s\r\n\r\n" % (path, cookie)).encode())

    def status(self):
        st = int(self.f.readline().split()[1])
        length, chunked = 0, False
        for line in iter(self.f.readline, b"\r\n"):
            k, _, v = line.decode("latin-1").partition(":")
            if k.lower() == "content-length":
                length = int(v)
            elif k.lower() == "transfer-encoding" and "chunked" in v.lower():
                chunked = True
        if chunked:
            while True:
                n = int(self.f.readline().split(b";")[0], 16)
                self.f.read(n + 2)
                if n == 0:
                    break
        else:
            self.f.read(length)
        return st

    def close(self):
        self.f.close()
        self.sock.close()


def jwt_claims(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def revocation_delay(env, rounds, conns=16):
    """Another node revokes a session (a DEL of its key in the shared Redis, as its logout's script does): how long
    until every child of this server refuses it? conns keep-alive connections (spread over the children) first get
    the session into their children's caches, then ask together, round after round, from just before the DEL."""
    out = []
    for _ in range(rounds):
        jar = login(Client(env.port), "r20@" + EMAIL_DOMAIN, PASSWORD)
        cookie = cookie_header(jar)
        c = jwt_claims(jar["accessToken"])
        keys = [k for k in env.redis("--scan", "--pattern", "*{u:%s}:s:%s" % (c["sub"], c["sid"])).splitlines() if k]
        if len(keys) != 1:
            return {"ok": False, "reason": "session key not found in Redis"}
        hs = [RawHTTP(env.port) for _ in range(conns)]
        for _ in range(3):                               # cached in every child that serves one of them
            for h in hs:
                h.send("/bench/on/1k.txt", cookie)
            warm = [h.status() for h in hs]
            if any(st != 200 for st in warm):
                return {"ok": False, "reason": "warm-up answered %s" % sorted(set(warm))}
        rd = socket.create_connection(("127.0.0.1", env.redis_port), timeout=10)
        k = keys[0].encode()
        t0 = time.perf_counter()
        rd.sendall(b"*2\r\n$3\r\nDEL\r\n$%d\r\n%s\r\n" % (len(k), k))
        deleted = rd.recv(64).startswith(b":1")
        rd.close()
        first_401 = [None] * conns
        ok_after = 0
        while time.perf_counter() - t0 < 5 and None in first_401:
            for h in hs:
                h.send("/bench/on/1k.txt", cookie)
            for i, h in enumerate(hs):
                st = h.status()
                if st == 200:
                    ok_after += 1
                elif st == 401 and first_401[i] is None:
                    first_401[i] = time.perf_counter() - t0
        # and refused from then on
        for h in hs:
            h.send("/bench/on/1k.txt", cookie)
        later = [h.status() for h in hs]
        for h in hs:
            h.close()
        done = [t for t in first_401 if t is not None]
        out.append({"deleted": deleted, "all_refused_ms": round(max(done) * 1000, 2) if len(done) == conns else None,
                    "first_refused_ms": round(min(done) * 1000, 2) if done else None,
                    "answered_200_after_del": ok_after, "refused_after": all(st == 401 for st in later)})
    alls = sorted(r["all_refused_ms"] for r in out if r["all_refused_ms"] is not None)
    return {"ok": len(alls) == rounds and all(r["deleted"] and r["refused_after"] for r in out),
            "rounds": out, "connections": conns,
            "median_ms": alls[len(alls) // 2] if alls else None, "max_ms": alls[-1] if alls else None,
            "answered_200_after_del": sum(r["answered_200_after_del"] for r in out)}


# ------------------------------------------------------------------------------------------------- cold step
def restart_apache(env):
    """A graceful restart (scripts/devstack restart-apache): fresh children, with empty caches and pools. Returns
    once every child of the old generation is gone (one still finishing a connection would share the load) and
    the new ones answer; the seconds that took."""
    parent = env.pidfile(os.path.join(env.state, "run", "httpd.pid"))
    old = set(children_of(parent)) if parent else set()
    t0 = time.monotonic()
    r = subprocess.run([os.path.join(ROOT, "scripts", "devstack"), "restart-apache"], capture_output=True, text=True)
    if r.returncode != 0:
        die("scripts/devstack restart-apache failed: %s" % r.stderr[-500:])
    end = time.monotonic() + 30
    while time.monotonic() < end:
        kids = set(children_of(parent)) if parent else set()
        if kids and not kids & old and probe(env, "GET", "/bench/static/1k.txt")[0] == 200:
            break
        time.sleep(0.1)
    return round(time.monotonic() - t0, 2)


def pg_backends(env):
    """PostgreSQL connections of the pools (client backends other than this psql)."""
    return int(env.psql("select count(*) from pg_stat_activity where datname = 'trpcauth' "
                        "and backend_type = 'client backend' and pid <> pg_backend_pid()") or 0)


def cold_step(env, cfg, name, title, path, extra_env, expect):
    """From an idle server to cfg['conns'] connections at once: Apache restarted, left idle for cfg['cold_idle']
    seconds (the module's start-up work done), then wrk for the first cfg['cold_secs'] seconds of load, no warm-up."""
    restart_s = restart_apache(env)
    time.sleep(cfg["cold_idle"])
    before = pg_backends(env)
    s0 = Snapshot(env)
    res, cmd, raw = wrk(env, cfg, env.base + path, extra_env, cfg["conns"], cfg["cold_secs"])
    quiesce(env)
    s1 = Snapshot(env)
    out = {"name": name, "title": title, "command": cmd, "restart_s": restart_s, "idle_s": cfg["cold_idle"],
           "duration_s": cfg["cold_secs"],
           "pg_backends_before": before, "pg_backends_after": pg_backends(env)}
    if res is None:
        out.update({"status": "failed", "detail": raw[-2000:]})
        return out
    statuses = statuses_between(env, s0.log_offset, s1.log_offset)
    sock = sum(res["errors"][k] for k in ("connect", "read", "write", "timeout"))
    out.update({"status": "ok", "requests": res["requests"],
                "rps": round(res["requests"] / (res["duration_us"] / 1e6), 1),
                "p50_ms": round(res["latency_us"]["p50"] / 1000, 2),
                "p99_ms": round(res["latency_us"]["p99"] / 1000, 2),
                "max_ms": round(res["latency_us"]["max"] / 1000, 2),
                "errors": sock + sum(v for k, v in statuses.items() if k != str(expect)),
                "http_statuses": statuses})
    log("%-16s %9.1f req/s  p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms  PostgreSQL connections %d -> %d"
        % (name, out["rps"], out["p50_ms"], out["p99_ms"], out["max_ms"], before, out["pg_backends_after"]))
    return out


# ----------------------------------------------------------------------------------------------- after the run
def apache_memory(env):
    parent = env.pidfile(os.path.join(env.state, "run", "httpd.pid"))
    out = {"children": [], "rss_kb": 0, "pss_kb": 0}
    for pid in children_of(parent) if parent else []:
        rss = pss = 0
        try:
            with open("/proc/%d/status" % pid) as f:
                rss = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
            with open("/proc/%d/smaps_rollup" % pid) as f:
                pss = int(re.search(r"Pss:\s+(\d+)", f.read()).group(1))
        except (OSError, AttributeError):
            continue
        out["children"].append({"pid": pid, "rss_kb": rss, "pss_kb": pss})
        out["rss_kb"] += rss
        out["pss_kb"] += pss
    try:
        with open("/proc/%d/status" % parent) as f:
            out["parent_rss_kb"] = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
    except (OSError, AttributeError, TypeError):
        out["parent_rss_kb"] = None
    return out


def time_logout_all(env, data):
    card_before = int(env.redis("ZCARD", data["many_index"]))
    cs0 = env.redis_info("commandstats")
    c = Client(env.port)
    c.call("GET", "/bench/static/1k.txt")            # connection open before timing
    t0 = time.perf_counter()
    st, _, body = c.call("POST", "/trpc/auth.logoutAll", "", cookie_header(data["jars"]["many"]))
    ms = (time.perf_counter() - t0) * 1000
    cs1 = env.redis_info("commandstats")
    ev = lambda cs: sum(int(re.search(r"usec=(\d+)", v).group(1)) for k, v in cs.items()
                        if k in ("cmdstat_eval", "cmdstat_evalsha"))
    return {"http_status": st, "ms": round(ms, 2), "sessions_before": card_before,
            "sessions_after": int(env.redis("ZCARD", data["many_index"])),
            "redis_script_ms": round((ev(cs1) - ev(cs0)) / 1000, 2),
            "ok": st == 200, "body": body.decode("utf-8", "replace")[:200]}


def httpd_binary():
    """httpd's binary as apxs reports it (Debian: /usr/sbin/apache2)."""
    apxs = shutil.which("apxs") or shutil.which("apxs2") or "apxs"
    try:
        q = lambda v: subprocess.run([apxs, "-q", v], capture_output=True, text=True, check=True).stdout.strip()
        return os.path.join(q("SBINDIR"), q("TARGET"))
    except (OSError, subprocess.CalledProcessError):
        return "apache2"


def bcrypt_time(env, cost, smoke):
    exe = os.path.join(env.state, "bcrypt_time")
    src = os.path.join(BENCH, "bcrypt_time.c")
    if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(src):
        flags = lambda c, *a: subprocess.run([c] + list(a), capture_output=True, text=True, check=True).stdout.split()
        subprocess.run(["cc", "-O2"] + flags("apr-1-config", "--includes") + [src, "-o", exe]
                       + flags("apu-1-config", "--link-ld") + flags("apr-1-config", "--link-ld"), check=True)
    med, low = subprocess.run([exe, str(cost), "3" if smoke else "5"], capture_output=True, text=True,
                              check=True).stdout.split()
    return float(med), float(low)


def bcrypt_parallel(env, cost, smoke):
    """Bare bcrypt on every core at once (one bcrypt_time per core): the logins/s the machine's cores really give
    when all of them hash, next to the ceiling of the target (cores / the time of one hash on a quiet machine)."""
    exe = os.path.join(env.state, "bcrypt_time")
    procs = [subprocess.Popen([exe, str(cost), "3" if smoke else "5"], stdout=subprocess.PIPE, text=True)
             for _ in range(os.cpu_count())]
    meds = [float(p.communicate()[0].split()[0]) for p in procs]
    return {"median_ms_per_core": meds, "rps": round(sum(1000.0 / m for m in meds), 2)}


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(re.search(r"MemTotal:\s+(\d+)", f.read()).group(1))
    return {"nproc": os.cpu_count(), "cpu_model": model, "memory_gb": round(mem_kb / 1048576, 1),
            "kernel": platform.release(), "load_avg_at_start": os.getloadavg(),
            "apache": subprocess.run([httpd_binary(), "-v"], capture_output=True, text=True)
            .stdout.splitlines()[0].split(":", 1)[-1].strip(),
            "wrk": "wrk " + (subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split() or ["?"])[1]}


# ---------------------------------------------------------------------------------------------------- report
def evaluate(results, extra, cfg):
    by = {r["name"]: r for r in results}
    base = by.get("static", {}).get("rps")
    for r in results:
        if r.get("status") == "ok" and base:
            r["ratio"] = round(r["rps"] / base, 3)
    targets = []

    def t(name, what, value, goal, ok, unit=""):
        targets.append({"target": name, "measured": what, "value": value, "goal": goal,
                        "met": ok if value is not None else None, "unit": unit})

    def ratio_target(sname, goal, label):
        r = by.get(sname, {})
        adj = "ratio_adjacent" in r
        v = r.get("ratio_adjacent" if adj else "ratio") if r.get("status") == "ok" else None
        t(label, "req/s ratio to static" + (" (median of paired rounds)" if adj else ""), v, ">= %.2f" % goal,
          v is not None and v >= goal)

    ratio_target("protected_on", 0.90, "protected static, default configuration (session cache)")
    ratio_target("protected_off", 0.95, "protected static, SessionCheck Off")
    ratio_target("getall_20", 0.55, "getAll 20 rows")
    g = by.get("getall_20", {})
    st = by.get("static", {})
    v = round(g["p99_ms"] / st["p99_ms"], 2) if g.get("p99_ms") and st.get("p99_ms") else None
    t("getAll 20 rows p99 at %d connections" % cfg["conns"],
      "p99 / static's p99 (%s / %s ms)" % (g.get("p99_ms"), st.get("p99_ms")), v, "<= 1.5",
      v is not None and v <= 1.5)
    cold = {r["name"]: r for r in extra.get("cold_step", []) if r.get("status") == "ok"}
    cg, cs = cold.get("cold_getall_20", {}), cold.get("cold_static", {})
    v = round(cg["rps"] / cs["rps"], 3) if cg and cs else None
    t("cold step: getAll 20 rows", "req/s ratio to static's cold step", v, ">= 0.55", v is not None and v >= 0.55)
    v = round(cg["p99_ms"] / cs["p99_ms"], 2) if cg and cs and cs["p99_ms"] else None
    t("cold step: getAll 20 rows p99",
      "p99 / static's p99, first %s s (%s / %s ms)" % (cfg.get("cold_secs"), cg.get("p99_ms"), cs.get("p99_ms")),
      v, "<= 1.5", v is not None and v <= 1.5)
    ratio_target("create", 0.10, "transaction.create")
    lg = by.get("login", {})
    ceiling = extra["bcrypt"]["ceiling_rps"]
    v = round(lg["rps"] / ceiling, 3) if lg.get("status") == "ok" else None
    t("auth.login vs cores / bcrypt time", "fraction of ceiling (%.1f req/s)" % ceiling, v, ">= 0.95",
      v is not None and v >= 0.95)
    ratio_target("unauth", 0.70, "unauthenticated -> 401")
    mb = round(extra["apache_memory"]["rss_kb"] / 1024, 1)
    t("Apache children RSS after the run", "MB (sum of VmRSS)", mb, "<= 64", mb <= 64, "MB")
    n = by.get("getall_20_noise", {})
    v, what = None, "req/s with noise / without"
    if n.get("status") == "ok" and g.get("status") == "ok":
        if n.get("ratio_adjacent") and g.get("ratio_adjacent"):
            # each against the static run just before it: the machine's drift between the two cancels out
            v, what = round(n["ratio_adjacent"] / g["ratio_adjacent"], 3), what + " (each paired with static)"
        else:
            v = round(n["rps"] / g["rps"], 3)
    t("getAll independent of other users' rows", what, v, ">= 0.90 (noise)", v is not None and v >= 0.90)
    return targets


def fmt(v, nd=1):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return ("%%.%df" % nd) % v
    return str(v)


def markdown(doc):
    m = doc["machine"]
    L = ["# mod_trpcauth benchmark (%s)" % ("smoke" if doc["smoke"] else "full"), "",
         "- date: %s" % doc["date"],
         "- machine: %d cores, %s, %.1f GB RAM, kernel %s; load average at start %s"
         % (m["nproc"], m["cpu_model"], m["memory_gb"], m["kernel"],
            " ".join("%.2f" % x for x in m["load_avg_at_start"])),
         "- software: %s, %s, MPM %s, module commit %s%s" % (m["apache"], m["wrk"], doc["mpm"],
                                                              doc["git"]["commit"],
                                                              " (+ uncommitted changes)" if doc["git"]["dirty"] else ""),
         "- command: `%s` — wrk %d threads, %d connections (login: %d), %d s per scenario after a %d s warm-up, "
         "loopback; PostgreSQL, Redis and wrk share the same cores" % (
             doc["command"], 2, doc["config"]["conns"], doc["config"]["login_conns"], doc["config"]["duration"],
             doc["config"]["warmup"]),
         "- auth.login is measured at bcrypt cost %d (TrpcAuthBcryptCost in bench/bench.conf); seeded users have "
         "cost-4 hashes" % doc["bcrypt"]["cost"],
         "- a scenario with a ratio target is also measured in %d rounds of %d s static + %d s scenario, back to "
         "back; its target is judged on the median of the per-round ratios (last column: median static req/s, "
         "median ratio), as the baseline drifts during a run on a shared machine"
         % (doc["config"].get("pair_rounds", 0), doc["config"].get("paired", 0), doc["config"].get("paired", 0)),
         "", "| scenario | req/s | p50 ms | p99 ms | errors | ratio to static | CPU µs/req apache / pg / redis / wrk "
         "| paired rounds: static req/s, ratio |",
         "|---|---:|---:|---:|---:|---:|---|---|"]
    for r in doc["scenarios"]:
        if r.get("status") != "ok":
            L.append("| %s | %s | | | | | %s | |" % (r["title"], r["status"], r.get("detail", "")[:80].replace("|", "/")))
            continue
        c = r["cpu_us_per_req"]
        err = "%d" % r["errors"]
        if r["errors"]:
            parts = ["HTTP %s×%d" % (k, v) for k, v in sorted(r["http_statuses"].items()) if k != str(r["expect"])]
            if r["socket_errors"]:
                parts.append("%d socket" % r["socket_errors"])
            err += " (%s)" % ", ".join(parts)
        adj = "%s, %s" % (fmt(r["adjacent_static_rps"]), fmt(r.get("ratio_adjacent"), 3)) \
            if r.get("adjacent_static_rps") else ""
        L.append("| %s | %s | %s | %s | %s | %s | %s / %s / %s / %s | %s |" % (
            r["title"], fmt(r["rps"]), fmt(r["p50_ms"], 2), fmt(r["p99_ms"], 2), err, fmt(r.get("ratio"), 3),
            fmt(c["apache"], 0), fmt(c["postgres"], 0), fmt(c["redis"], 0), fmt(c["wrk"], 0), adj))
    b = doc["bcrypt"]
    mem = doc["apache_memory"]
    rm = doc["redis_memory"]
    la = doc["logout_all"]
    par = b.get("parallel") or {}
    L += ["", "- bcrypt cost %d: %.1f ms per hash (median) → ceiling %d cores ÷ %.3f s = %.1f logins/s; achieved %s"
          % (b["cost"], b["median_ms"], m["nproc"], b["median_ms"] / 1000, b["ceiling_rps"],
             fmt(b.get("achieved_fraction"), 3))
          + ("; bare bcrypt on all %d cores at once (%s ms per hash) gives %.1f hashes/s = %.3f of that ceiling, "
             "and auth.login reaches %s of it" % (
                 m["nproc"], " / ".join("%.1f" % x for x in par["median_ms_per_core"]), par["rps"],
                 par["rps"] / b["ceiling_rps"], fmt(b.get("achieved_of_parallel"), 3)) if par else ""),
          "- Apache children after the run: %d processes, RSS %.1f MB total (PSS %.1f MB); parent RSS %s MB"
          % (len(mem["children"]), mem["rss_kb"] / 1024, mem["pss_kb"] / 1024,
             fmt((mem["parent_rss_kb"] or 0) / 1024)),
          "- Redis: %d sessions (%d users) added %d bytes of used_memory = %.0f bytes/session "
          "(MEMORY USAGE: session hash %d B, a %d-session index zset %d B)"
          % (rm["sessions_created"], rm["users"], rm["used_memory_after"] - rm["used_memory_before"],
             rm["bytes_per_session"], rm["memory_usage_session_hash"], doc["config"]["sessions_per_user"],
             rm["memory_usage_index_zset"]),
          "- auth.logoutAll of a user with %s sessions: %s" % (
              la.get("sessions_before", "?"),
              "%.1f ms (Redis script %.1f ms), %s sessions left" % (la["ms"], la["redis_script_ms"],
                                                                   la["sessions_after"])
              if la.get("ok") else "n/a (%s)" % la.get("reason", la.get("body", ""))),
          ]
    rv = doc.get("revocation", {})
    if rv.get("rounds"):
        L.append("- revocation by another node (a DEL of the session key in Redis, as its logout does; %d rounds, %d "
                 "connections over both children, from the DEL sent): every connection refused after %s ms (median; "
                 "max %s ms); %d requests answered 200 after the DEL was sent, none after its refusal%s"
                 % (len(rv["rounds"]), rv["connections"], fmt(rv.get("median_ms"), 2), fmt(rv.get("max_ms"), 2),
                    rv["answered_200_after_del"], "" if rv.get("ok") else " (**not ok**)"))
    elif rv:
        L.append("- revocation by another node: n/a (%s)" % rv.get("reason", "?"))
    if doc.get("noise_plan"):
        L += ["- getAll plan with the other users' rows: `%s`" % doc["noise_plan"].splitlines()[0].strip()]
    for r in doc["scenarios"]:
        if r.get("note"):
            L.append("- %s: %s" % (r["title"], r["note"]))
    cold = doc.get("cold_step", [])
    if cold:
        L += ["", "Cold step: Apache restarted (graceful), left idle %s s, then %d connections at once for %s s, no "
              "warm-up (PostgreSQL connections of the pools before and after):" % (
                  doc["config"]["cold_idle"], doc["config"]["conns"], doc["config"]["cold_secs"]), "",
              "| scenario | req/s | p50 ms | p99 ms | max ms | errors | PostgreSQL connections before -> after |",
              "|---|---:|---:|---:|---:|---:|---|"]
        for r in cold:
            if r.get("status") != "ok":
                L.append("| %s | %s | | | | | |" % (r["title"], r.get("status")))
                continue
            L.append("| %s | %s | %s | %s | %s | %d | %d -> %d |" % (
                r["title"], fmt(r["rps"]), fmt(r["p50_ms"], 2), fmt(r["p99_ms"], 2), fmt(r["max_ms"], 2),
                r["errors"], r["pg_backends_before"], r["pg_backends_after"]))
    L += ["", "| target | measured | value | goal | met |", "|---|---|---:|---|---|"]
    for t in doc["targets"]:
        L.append("| %s | %s | %s | %s | %s |" % (t["target"], t["measured"], fmt(t["value"], 3), t["goal"],
                                                 {True: "yes", False: "**no**", None: "n/a"}[t["met"]]))
    L += ["", "CPU µs/req: CPU time of each component during the scenario divided by the requests served "
          "(Apache parent+children, PostgreSQL postmaster+backends, redis-server, wrk). 'other load' (CPU "
          "used by processes outside the bench, e.g. other engineers' tests) per scenario is in the JSON "
          "(`other_load_cores`)."]
    return "\n".join(L) + "\n"


def git_info():
    try:
        commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--", "src", "include",
                                     "mod_trpcauth.c"], capture_output=True, text=True).stdout.strip())
        return {"commit": commit, "dirty": dirty}
    except OSError:
        return {"commit": "?", "dirty": None}


# ------------------------------------------------------------------------------------------------------ main
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--only", help="comma-separated scenario names")
    ap.add_argument("--command", default="bench/run")
    args = ap.parse_args()

    env = Env(args.smoke)
    if args.smoke:
        cfg = {"duration": 1, "conns": 4, "login_conns": 4, "warmup": 0, "paired": 0, "pair_rounds": 0,
               "cold_idle": 1, "cold_secs": 1, "revocation_rounds": 1,
               "session_users": 10,
               "sessions_per_user": 10, "many_sessions": 50, "noise_rows": 20000}
    else:
        cfg = {"duration": 10, "conns": 32, "login_conns": 4, "warmup": 2, "paired": 2, "pair_rounds": 5,
               "cold_idle": 5, "cold_secs": 3, "revocation_rounds": 5,
               "session_users": 1000,
               "sessions_per_user": 10, "many_sessions": 1000, "noise_rows": 200000}
    doc = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "smoke": args.smoke, "command": args.command, "machine": machine(), "config": cfg,
           "mpm": os.environ.get("TRPCAUTH_MPM", "event"), "git": git_info(),
           "base_url": env.base}
    data = seed(env, cfg)
    avail = detect(env, data)
    doc["availability"] = {k: {"available": v[0], "probe": v[1]} for k, v in avail.items()}
    for k, v in avail.items():
        log("%-9s %s (%s)" % (k, "available" if v[0] else "n/a", v[1]))

    med, low = bcrypt_time(env, data["cost"], args.smoke)
    ceiling = os.cpu_count() / (med / 1000)
    doc["bcrypt"] = {"cost": data["cost"], "median_ms": med, "min_ms": low, "ceiling_rps": round(ceiling, 2),
                     "parallel": bcrypt_parallel(env, data["cost"], args.smoke)}
    log("bcrypt cost %d: %.1f ms/hash -> ceiling %.1f logins/s; all cores hashing at once: %.1f hashes/s"
        % (data["cost"], med, ceiling, doc["bcrypt"]["parallel"]["rps"]))

    only = set(args.only.split(",")) if args.only else None
    if not only or "revocation" in only:
        doc["revocation"] = revocation_delay(env, cfg["revocation_rounds"])
        rv = doc["revocation"]
        log("revocation by another node: every connection refused %s ms after the DEL (median; max %s ms)%s"
            % (rv.get("median_ms"), rv.get("max_ms"), "" if rv.get("ok") else ": NOT OK %s" % rv.get("reason", "")))

    results = []
    for sc in scenarios(env, cfg, data, avail):
        if only and sc["name"] not in only:
            continue
        if sc.get("needs") and not avail[sc["needs"]][0]:
            results.append({"name": sc["name"], "title": sc["title"], "expect": sc["expect"], "status": "n/a",
                            "detail": "not available yet: " + avail[sc["needs"]][1]})
            log("%-16s n/a" % sc["name"])
            continue
        if sc.get("before") == "noise":
            doc["noise_plan"] = add_noise(env, data, cfg["noise_rows"])
        r = run_scenario(env, cfg, sc)
        results.append(r)
        if r["status"] == "ok":
            log("%-16s %9.1f req/s  p50 %7.2f ms  p99 %7.2f ms  errors %d  statuses %s  other load %.2f cores"
                % (r["name"], r["rps"], r["p50_ms"], r["p99_ms"], r["errors"], r["http_statuses"],
                   r["other_load_cores"]))
        else:
            log("%-16s FAILED: %s" % (r["name"], r.get("detail", "")[-300:]))
    doc["scenarios"] = results

    doc["apache_memory"] = apache_memory(env)
    doc["redis_memory"] = data["redis"]
    if avail["logoutAll"][0]:
        doc["logout_all"] = time_logout_all(env, data)
    else:
        doc["logout_all"] = {"ok": False, "reason": "not available yet: " + avail["logoutAll"][1]}
    # Last: the cold steps restart Apache (after its memory was measured).
    doc["cold_step"] = []
    if not only or "cold" in only:
        j = data["jars"]
        doc["cold_step"] = [
            cold_step(env, cfg, "cold_static", "static 1 KiB, unprotected (baseline)", "/bench/static/1k.txt",
                      {"BENCH_METHOD": "GET", "BENCH_COOKIE": ""}, 200),
            cold_step(env, cfg, "cold_getall_20", "transaction.getAll, 20 rows", "/trpc/transaction.getAll",
                      {"BENCH_METHOD": "GET", "BENCH_COOKIE": cookie_header(j["r20"])}, 200),
        ]
    lg = next((r for r in results if r["name"] == "login" and r.get("status") == "ok"), None)
    doc["bcrypt"]["achieved_fraction"] = round(lg["rps"] / ceiling, 3) if lg else None
    doc["bcrypt"]["achieved_of_parallel"] = round(lg["rps"] / doc["bcrypt"]["parallel"]["rps"], 3) if lg else None
    doc["targets"] = evaluate(results, doc, cfg)

    outdir = os.path.join(BENCH, "results")
    os.makedirs(os.path.join(outdir, "archive"), exist_ok=True)
    stem = "smoke" if args.smoke else "latest"
    md = markdown(doc)
    for path, text in ((stem + ".json", json.dumps(doc, indent=2) + "\n"), (stem + ".md", md)):
        with open(os.path.join(outdir, path), "w") as f:
            f.write(text)
    if not args.smoke:
        ts = doc["date"].replace(":", "").replace("+0000", "Z")
        for ext, text in (("json", json.dumps(doc, indent=2) + "\n"), ("md", md)):
            with open(os.path.join(outdir, "archive", "%s.%s" % (ts, ext)), "w") as f:
                f.write(text)
    print()
    print(md)
    log("wrote bench/results/%s.json and bench/results/%s.md" % (stem, stem))

    bad = [r["name"] for r in results if r.get("status") == "failed"
           or (r.get("status") == "ok" and r["expected_status_count"] == 0)]
    bad += [r["name"] for r in doc["cold_step"] if r.get("status") != "ok" or r["errors"] >= r["requests"]]
    if bad:
        die("scenarios that returned only errors or failed: " + ", ".join(bad))


if __name__ == "__main__":
    main()
