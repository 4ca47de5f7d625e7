#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/corpus/<target>/ (small files only).

The requests come from docs/trpc-http-protocol.md (§1-§7) and
docs/frontend-traffic.md; the JWTs have the shapes the unit tests
and the frontend use (HS256 ones are signed with the fuzzer's fixed secret, so
they verify and reach the claim checks). Re-run after changing an input layout:
    python3 fuzz/make-corpus.py
"""
import base64
import hashlib
import hmac
import json
import os
import shutil
import struct
from urllib.parse import quote

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
SECRET = b"0123456789abcdef0123456789ABCDEF"   # fuzz_jwt.c SECRET (key k1)
NOW = 1700000000                               # fuzz_jwt.c NOW


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# --------------------------------------------------------------- tRPC requests
# byte 0: method in bits 0-2 (0 GET 1 POST 2 PUT 3 DELETE 4 PATCH 5 get 6 none
# 7 OPTIONS); bits 3-7: an empty content-type/accept/trpc-accept/query/body is
# NULL (absent). byte 1: fill seed. Then path\nquery\nct\naccept\ntrpc-accept\nbody.
GET, POST, PUT, DELETE, PATCH = 0, 1, 2, 3, 4
ABSENT = 0xF8


def trpc(name, method, path, query="", ct="", accept="", taccept="", body=b"", seed=0, flags=ABSENT):
    if isinstance(body, str):
        body = body.encode()
    head = bytes([flags | method, seed])
    fields = "\n".join([path, query, ct, accept, taccept]).encode() + b"\n"
    write("fuzz_trpc_request", name, head + fields + body)


def q(obj):
    return quote(json.dumps(obj, separators=(",", ":")), safe="")


UNDEF = {"json": None, "meta": {"values": ["undefined"], "v": 1}}
UNDEF_V0 = {"json": None, "meta": {"values": ["undefined"]}}
JSON_CT = "application/json"

trpc("get-hello", GET, "hello", "input=" + q({"name": "x"}))
trpc("get-noinput", GET, "noInput")
trpc("get-noinput-garbage", GET, "noInput", "input=%7Bbad", seed=4)
trpc("post-login", POST, "auth.login", ct=JSON_CT, body='{"username":"a","password":"wrong"}', seed=1)
trpc("post-empty-body", POST, "echoM", ct=JSON_CT, seed=2)
trpc("get-batch", GET, "hello", "batch=1&input=" + q({"0": {"name": "x"}}), seed=3)
trpc("get-batch3", GET, "hello,nope,undef", "batch=1&input=%7B%7D", seed=5)
trpc("post-batch", POST, "auth.login", "batch=1", JSON_CT, body='{"0":{"username":"a","password":"wrong"}}', seed=6)
trpc("post-batch-empty", POST, "echoM", "batch=1", JSON_CT, body="{}", seed=7)
trpc("post-override", POST, "hello", ct=JSON_CT, body='{"name":"m"}', seed=8)
trpc("put", PUT, "noInput", ct="application/json; charset=utf-8", body="{}", seed=9)
trpc("post-415", POST, "hello", ct="text/plain", body="hi")
trpc("post-no-ct", POST, "hello", body="{}")
trpc("batch-true", GET, "hello", "batch=true&input=" + q({"0": {}}), seed=10)
trpc("batch-encoded-comma", GET, "hello%2CnoInput", "batch=1", seed=11)
trpc("uri-malformed", GET, "%E0%A4%A", "batch=1")
trpc("path-nul", GET, "a%00b")
trpc("slashes", GET, "/trpc/../hello//", "input=" + q("x") + "&input=2&batch=0")
trpc("plus-space", GET, "hello", "input=%7B%22name%22:%22a+b%22%7D")
trpc("stream", GET, "hello,noInput", "batch=1&input=" + q({"0": {"name": "x"}}),
     taccept="application/jsonl", seed=12)
trpc("stream-accept", GET, "a,b,c", "batch=1", accept="text/html, application/jsonl ,*/*", seed=13)
trpc("stream-not-batch", GET, "hello", taccept="application/jsonl")
trpc("batch-not-object", POST, "a,b", "batch=1", JSON_CT, body="[1,2]", seed=14)
trpc("bad-json", POST, "a", ct=JSON_CT, body='{"a":', seed=4)
trpc("nul-escape", POST, "a", ct=JSON_CT, body='{"a":"x\\u0000y"}', seed=1)
trpc("too-big-batch", GET, "a,b,c,d,e", "batch=1", seed=15)
trpc("empty-calls", GET, "a,,b,", "batch=1", seed=16)
trpc("bad-utf8-ct", POST, "a", ct="text/\xff\xfe", body="{}")
# superjson traffic (frontend-traffic.md and spec §7)
trpc("sj-getall", GET, "transaction.getAll", "batch=1&input=" + q({"0": UNDEF_V0}), seed=17)
trpc("sj-register", POST, "auth.register", "batch=1", JSON_CT,
     body=json.dumps({"0": {"json": {"email": "user-1@example.com", "password": "password123"}}}), seed=18)
trpc("sj-create-undef-tag", POST, "transaction.create", "batch=1", JSON_CT,
     body='{"0":{"json":{"amount":7,"txnType":"Outgoing","summary":"","tag":null},'
          '"meta":{"values":{"tag":["undefined"]}}}}', seed=19)
trpc("sj-logout", POST, "auth.logout", "batch=1", JSON_CT, body=json.dumps({"0": UNDEF_V0}), seed=20)
trpc("sj-date-batch", GET, "date,noInput,echo",
     "batch=1&input=" + q({"0": UNDEF, "1": UNDEF,
                           "2": {"json": {"when": "1970-01-01T00:00:00.000Z"},
                                 "meta": {"values": {"when": ["Date"]}, "v": 1}}}), seed=21)
trpc("sj-echo-date", POST, "echoM", "batch=1", JSON_CT,
     body='{"0":{"json":{"d":"1970-01-01T00:00:00.000Z"},"meta":{"values":{"d":["Date"]},"v":1}}}', seed=22)
trpc("sj-single", GET, "hello", "input=" + q({"json": {"name": "x"}}), seed=23)
trpc("sj-nested-paths", POST, "x", ct=JSON_CT,
     body='{"json":{"a.b":{"c":[1,{"d":2}]},"e\\\\":1},"meta":{"values":{"a\\\\.b.c.1.d":["undefined"],'
          '"e\\\\\\\\":[["custom","x"]]},"v":1}}', seed=24)
trpc("sj-legacy-tree", POST, "x", ct=JSON_CT,
     body='{"json":{"a":{"b":1}},"meta":{"values":{"a":["map",{"b":["undefined"]}]}}}', seed=25)
trpc("sj-bad-env", POST, "x,y", "batch=1", JSON_CT, body='{"0":{"jsn":1},"1":5}', seed=26)

# ------------------------------------------------------------------------ JWTs
# byte 0: mode = byte % 3 (0 raw token, 1 crafted header\npayload, 2 round trip),
# options = byte // 3 (raw/crafted: bit0 typ at+jwt, bit1 iss, bit2 aud;
# round trip: bit0 typ, bit1 jti, bit2 iss, bit3 aud, bit4/5 full 64-bit iat/exp).


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def hs_token(hdr, payload, key=SECRET):
    h = b64(json.dumps(hdr, separators=(",", ":")).encode())
    p = b64(json.dumps(payload, separators=(",", ":")).encode())
    sig = hmac.new(key, f"{h}.{p}".encode(), hashlib.sha256).digest()
    return f"{h}.{p}.{b64(sig)}"


def jwt(name, mode, opts, data):
    if isinstance(data, str):
        data = data.encode("latin-1")   # "\xNN" in these strings is the byte NN
    write("fuzz_jwt", name, bytes([mode + 3 * opts]) + data)


AT = {"alg": "HS256", "typ": "at+jwt", "kid": "k1"}
CLAIMS = {"sub": "42", "sid": "sess-1", "iat": NOW, "exp": NOW + 900}
jwt("raw-at-ok", 0, 1, hs_token(AT, CLAIMS))
jwt("raw-rt-ok", 0, 0, hs_token({"alg": "HS256", "typ": "rt+jwt", "kid": "k1"},
                                 dict(CLAIMS, jti="r-1", exp=NOW + 604800)))
jwt("raw-nokid", 0, 0, hs_token({"alg": "HS256", "typ": "at+jwt"}, CLAIMS))
jwt("raw-iss-aud", 0, 7, hs_token(AT, dict(CLAIMS, iss="issuer", aud=["x", "aud"])))
jwt("raw-expired", 0, 1, hs_token(AT, dict(CLAIMS, exp=NOW - 100)))
jwt("raw-frontend", 0, 0, hs_token({"alg": "HS256", "typ": "JWT"}, {"sub": 1, "iat": 1795709245, "exp": 1795709275}))
jwt("raw-none", 0, 0, b64(b'{"alg":"none"}') + "." + b64(json.dumps(CLAIMS).encode()) + ".")
jwt("raw-kid-k2", 0, 0, hs_token({"alg": "HS256", "kid": "k2"}, CLAIMS, b"fedcba9876543210FEDCBA9876543210-2"))
jwt("raw-eddsa-hdr", 0, 0, b64(b'{"alg":"EdDSA","kid":"e1","typ":"at+jwt"}') + "." + b64(b'{}') + "." + "A" * 86)
jwt("raw-es256-hdr", 0, 0, b64(b'{"alg":"ES256","kid":"s2"}') + "." + b64(b'{"sub":"1"}') + "." + "A" * 86)
jwt("raw-crit", 0, 0, hs_token(dict(AT, crit=["x"]), CLAIMS))
jwt("raw-bad-b64", 0, 0, "eyJhbGciOiJIUzI1NiJ9.e30=.abc")
jwt("raw-two-parts", 0, 0, "eyJhbGciOiJIUzI1NiJ9.e30")
jwt("raw-four-parts", 0, 0, "a.b.c.d")
jwt("crafted-ok", 1, 1, '{"alg":"HS256","typ":"at+jwt"}\n{"sub":"42","sid":"s","iat":1700000000,"exp":1700000900}')
jwt("crafted-real-time", 1, 0, '{"alg":"HS256"}\n{"sub":7,"sid":"s","exp":1.7e9,"nbf":1699999999.5,"jti":"j"}')
jwt("crafted-dup", 1, 0, '{"alg":"HS256","alg":"none"}\n{"sub":"1","sub":"2"}')
jwt("crafted-types", 1, 6, '{"alg":"HS256","kid":5,"typ":[]}\n{"sub":"","sid":null,"exp":"x","iss":1,"aud":{}}')
jwt("crafted-aud-array", 1, 4, '{"alg":"HS256"}\n{"sub":"1","sid":"2","exp":1700000900,"aud":["a",1,"aud"]}')
jwt("crafted-huge-exp", 1, 0, '{"alg":"HS256"}\n{"sub":"1","sid":"2","exp":1e300,"iat":-9223372036854775808}')
jwt("crafted-nul", 1, 0, '{"alg":"HS256"}\n{"sub":"a\\u0000b","sid":"\\u00e9","exp":1700000900}')
jwt("crafted-not-object", 1, 0, '[1]\n"x"')
jwt("rt-basic", 2, 1, "at+jwt\n42\nsess-1\n\n\n\n" + "\0" * 14 + "\x03\x84")
jwt("rt-all", 2, 15, "rt+jwt\n1\ns\njti-1\nissuer\naud\n" + "\0" * 14 + "\x01\0")
jwt("rt-empty-sub", 2, 0, "\n\nsid\n\n\n\n")
jwt("rt-utf8", 2, 13, "t\n\xc3\xa9\xe2\x82\xac\n\xf0\x9f\x98\x80\n\n\xff\naud\n")
jwt("rt-big-times", 2, 48, "x\n1\n2\n\n\n\n" + "\x7f" + "\xff" * 7 + "\x80" + "\0" * 7)
jwt("rt-expired", 2, 0, "at+jwt\nu\ns\n\n\n\n" + "\0" * 14 + "\xf0\0")

# --------------------------------------------------------------------- cookies
# byte 0 options (bit0 Secure, bit1 HttpOnly, bit2 Domain, bit3 SameSite, bit4 Path,
# bit5 max_len unlimited), byte 1 max_len, 8 bytes max_age, then
# name\nvalue\npath\ndomain\nsamesite\nheader.


def cookie(name, opts, max_len, max_age, cname, value, path, domain, samesite, header):
    data = bytes([opts, max_len]) + struct.pack(">q", max_age)
    data += "\n".join([cname, value, path, domain, samesite, header]).encode("utf-8", "surrogateescape")
    write("fuzz_cookie", name, data)


TOK = hs_token(AT, CLAIMS)
cookie("browser", 0x2B, 0, 900, "accessToken", TOK, "/", "", "Strict",
       f"accessToken={TOK}; refreshToken=a.b.c; logged_in=true")
cookie("refresh", 0x1B, 255, 604800, "refreshToken", "a.b.c", "/trpc", "", "Lax",
       "refreshToken=a.b.c; accessToken=eyJ.x.y; logged_in=true")
cookie("quoted", 0x20, 0, 60, "a", "v", "/", "", "", 'a="quoted value"; b=2')
cookie("merged-comma", 0x20, 0, 60, "b", "2", "/", "", "", "a=1, b=2,c=3; d=x,y")
cookie("blanks", 0x20, 0, 60, "a", "1", "/", "", "", " ;; a\t=\t 1 \t; ;a=2")
cookie("noeq", 0x20, 0, 60, "a", "1", "/", "", "", "a; b; a=ok")
cookie("maxlen", 0x00, 3, 60, "a", "12345", "/", "", "", "a=12345; a=1")
cookie("expire", 0x1F, 0, 0, "accessToken", "x", "/", "example.com", "None", "accessToken=")
cookie("negative", 0x03, 0, -5, "n", "v", "/", "", "", "n=v")
cookie("huge-age", 0x03, 0, 2**63 - 1, "n", "v", "/", "", "", "n=v")
cookie("crlf-value", 0x03, 0, 60, "a", "v\r\nSet-Cookie: evil=1", "/", "", "", "a=v")
cookie("bad-name", 0x03, 0, 60, "a=b", "v", "/", "", "", "a=b=v")
cookie("semicolon-path", 0x13, 0, 60, "a", "v", "/;x", "", "", "")
cookie("utf8", 0x20, 0, 60, "\u00e9", "\u20ac", "/", "", "", "\u00e9=\u20ac; x=\udcff")
cookie("empty", 0x20, 0, 60, "", "", "", "", "", "")
cookie("domain-ctl", 0x07, 0, 60, "a", "v", "/", "ex\x01.com", "", "a=v")
cookie("samesite-space", 0x0B, 0, 60, "a", "v", "/", "", "Lax x", "a=v")
cookie("commas-in-value", 0x20, 0, 60, "b", "x,y", "/", "", "", "b=x,y, c=1;b=z")
cookie("many-pairs", 0x20, 0, 60, "last", "1", "/", "", "", "; ".join(f"c{i}={i}" for i in range(200)) + "; last=1")

# ------------------------------------------------------------------ superjson
# byte 0 seeds the Date markers; the rest is JSON.


def sj(name, seed, text):
    write("fuzz_superjson", name, bytes([seed]) + text.encode())


sj("undefined-root", 1, json.dumps(UNDEF))
sj("undefined-root-v0", 2, json.dumps(UNDEF_V0))
sj("plain", 3, '{"json":"hi"}')
sj("null", 4, '{"json":null}')
sj("date-root", 5, '{"json":"2024-05-06T07:08:09.000Z","meta":{"values":["Date"],"v":1}}')
sj("date-member", 6, '{"json":{"createdAt":"2024-05-06T07:08:09.000Z"},"meta":{"values":{"createdAt":["Date"]},"v":1}}')
sj("nested", 7, '{"json":{"user":{"createdAt":"x","tags":["x"]}},"meta":{"values":{"user.createdAt":["Date"]},"v":1}}')
sj("undef-member", 8, '{"json":{"a":null,"b":1},"meta":{"values":{"a":["undefined"]},"v":1}}')
sj("escaped-dot", 9, '{"json":{"a.b":"d"},"meta":{"values":{"a\\\\.b":["Date"]},"v":1}}')
sj("refeq", 10, '{"json":["a","a"],"meta":{"values":{"0":["Date"],"1":["Date"]},"referentialEqualities":{"0":["1"]},"v":1}}')
sj("types", 11, '{"json":{"createdAt":"2024-01-02T03:04:05.000Z","big":"1","set":[1]},'
                '"meta":{"values":{"createdAt":["Date"],"big":["bigint"],"set":["set"]},"v":1}}')
sj("register-output", 12, '{"json":{"success":true,"user":[{"id":1,"email":"u@example.com",'
                          '"createdAt":"2026-11-26T16:10:30.239Z","updatedAt":"2026-11-26T16:10:30.239Z"}]},'
                          '"meta":{"values":{"user.0.createdAt":["Date"],"user.0.updatedAt":["Date"]}}}')
sj("create-undef-tag", 13, '{"json":{"amount":7,"txnType":"Outgoing","summary":"","tag":null},'
                           '"meta":{"values":{"tag":["undefined"]}}}')
sj("batch-item", 14, '{"0":{"json":null,"meta":{"values":["undefined"]}}}')
sj("tree-form", 15, '{"json":{"a":{"b":[1,{"c":2}]}},"meta":{"values":{"a":["map",{"b.1.c":["undefined"]}]},"v":1}}')
sj("bad-escape", 16, '{"json":{"a":1},"meta":{"values":{"a\\\\x":["undefined"]},"v":1}}')
sj("legacy-backslash", 17, '{"json":{"a\\\\":1},"meta":{"values":{"a\\\\":["undefined"]}}}')
sj("array-index", 18, '{"json":[{"a":1},{"a":2}],"meta":{"values":{"1.a":["undefined"],"01.a":["undefined"],'
                      '"99999999999999999999.a":["undefined"],"-1.a":["undefined"]},"v":1}}')
sj("not-envelope", 19, '[1,2,{"json":3}]')
sj("no-json", 20, '{"meta":{"values":["undefined"]}}')
sj("custom", 21, '{"json":{"x":"1"},"meta":{"values":{"x":[["custom","decimal"]]},"v":1.5}}')
sj("nul-string", 22, '{"json":{"s":"a\\u0000b"}}')
sj("empty-key", 23, '{"json":{"":{"":1}},"meta":{"values":{".":["undefined"]},"v":1}}')
sj("scalar", 24, '"2024-05-06T07:08:09.000Z"')
sj("deep", 25, '{"json":' + '{"a":' * 40 + '1' + '}' * 40 + ',"meta":{"values":{"' + '.'.join(['a'] * 40) + '":["undefined"]},"v":1}}')
sj("values-not-tree", 26, '{"json":{"a":1},"meta":{"values":5,"v":"1"}}')
sj("frontend-getall", 27, '{"json":[{"id":3,"tag":"Others","createdAt":"2026-11-26T16:07:27.156Z"}],'
                          '"meta":{"values":{"0.createdAt":["Date"],"0.updatedAt":["Date"]},"v":1}}')

if __name__ == "__main__":
    for t in sorted(os.listdir(CORPUS)):
        print(t, len(os.listdir(os.path.join(CORPUS, t))), "files")
