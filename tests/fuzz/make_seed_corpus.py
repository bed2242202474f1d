#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target to tests/fuzz/corpus/<target>/.

Seeds follow each target's input layout (see fuzz_input.hpp: a mode byte,
then length-prefixed pieces), so the fuzzer starts from well-formed
requests and answers instead of finding their shape by chance. Rerun after
changing a layout; the files are committed so CI needs no Python.
"""
import hashlib
import json
import os
import struct
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def env(flags, payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return bytes([flags]) + struct.pack(">I", len(payload)) + payload


def short(s):
    if isinstance(s, str):
        s = s.encode()
    s = s[:255]
    return bytes([len(s)]) + s


def j(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


SEEDS = {}

SEEDS["connect_envelope"] = [
    b"\xff\x03" + env(0, '{"a":1}') + env(2, "{}"),
    b"\x02\x00" + env(0, "x" * 10),  # above a limit of 6
    b"\xff\x07" + env(1, "compressed") + env(0, "")[:3],  # truncated tail
    b"\xff\x00" + env(0, "") * 4,
]

start = j({"event": {"start": {"pid": 42}}})
data = j({"event": {"data": {"stdout": "aGVsbG8K", "stderr": "ZXJy"}}})
end = j({"event": {"end": {"exitCode": 1, "exited": True, "status": "exit status 1"}}})
keep = j({"event": {"keepalive": {}}})
err_end = j({"error": {"code": "not_found", "message": "SECRET-envd-token-0123 is gone"}})
SEEDS["connect_stream"] = [
    b"\x00\x10" + env(0, start) + env(0, data) + env(0, keep) + env(0, end) + env(2, "{}"),
    b"\x00\x03" + env(0, start) + env(2, err_end),
    b"\x02\x01" + env(0, start) + env(0, "x" * 100),
    b"\x00\x05" + env(0, start),  # no end-of-stream
    b"\x00\x05" + env(0, "[1,2]") + env(2, "{}"),
    b"\x00\x05" + env(2, '{"error":{"code":"deadline_exceeded"}}'),
    bytes([1 + 2 * 4, 0]) + j({"code": "not_found", "message": "SECRET-envd-token-0123"}),
    bytes([1 + 2 * 102, 0]) + j({"sandboxId": "sbx", "message": "The sandbox was not found", "code": 502}),
    bytes([1 + 2 * 29, 0]) + b"<html>Too Many Requests</html>",
]

sandbox = {
    "sandboxID": "sbx1", "templateID": "base", "alias": "a", "clientID": "c",
    "state": "running", "cpuCount": 2, "memoryMB": "512", "diskSizeMB": 1024.0,
    "startedAt": "2025-01-02T03:04:05Z", "endAt": "2025-01-02T03:09:05Z",
    "envdVersion": "0.6.4", "metadata": {"k": "v"},
    "lifecycle": {"onTimeout": "pause", "autoResume": True},
    "volumeMounts": [{"name": "v", "path": "/mnt"}],
    "allowInternetAccess": False,
    "network": {"allowOut": ["1.1.1.1"], "denyOut": ["0.0.0.0/0"],
                "egressProxy": {"address": "p:1", "password": "SECRET-pw"},
                "rules": {"h": [{"transform": {"headers": {"a": "b"}}}]}},
}
metric = {"cpuCount": 2, "cpuUsedPct": 1.5, "memTotal": "9223372036854775807",
          "memUsed": 9223372036854775808.0, "memCache": 1, "diskTotal": 2,
          "diskUsed": 1, "timestamp": "2025-01-02T03:04:05Z", "timestampUnix": 1}
template = {"templateID": "t", "buildID": "b", "public": True, "names": ["n"],
            "tags": ["x"], "aliases": ["a"], "cpuCount": 1, "memoryMB": 2,
            "createdAt": "2025-01-02T03:04:05Z", "spawnCount": "3",
            "builds": [{"buildID": "b", "status": "ready", "cpuCount": 1}]}
SEEDS["json_mapping"] = [
    b"\x00" + j({"sandboxID": "s", "envdAccessToken": "SECRET-tok", "domain": "d"}),
    b"\x00" + j({"sandboxID": 5, "envdAccessToken": "SECRET-tok"}),
    b"\x01" + j(sandbox),
    b"\x02" + j([sandbox, {}]),
    b"\x03" + j([metric]),
    b"\x04" + j({"logs": [{"level": "info", "message": "SECRET", "timestamp": "t", "fields": {"a": "b"}}]}),
    b"\x05" + j({"snapshotID": "s", "names": ["a"]}),
    b"\x06" + j([{"snapshotID": "s"}]),
    b"\x07" + j([template]),
    b"\x08" + j(template),
    b"\x09" + j(template),
    b"\x0a" + j({"logs": [{"level": "error", "message": "m", "step": "s", "timestamp": "t"}]}),
    b"\x0b" + j({"buildID": "b", "status": "error", "cpuCount": "1e3"}),
    b"\x0c" + j(sandbox["network"]),
    b"\x0d" + j(metric),
    b"\x0e" + j({"onTimeout": "kill", "autoResume": False}),
    b"\x0f" + j({"name": "v", "path": 3}),
    b"\x01" + b'{"cpuCount": 1e400}',
    b"\x01" + b'{"cpuCount": "12x", "memoryMB": 2147483648}',
    b"\x02",
]

entry = {"name": "f", "type": "FILE_TYPE_FILE", "path": "/home/user/f",
         "size": "12", "mode": 420, "permissions": "-rw-r--r--",
         "owner": "user", "group": "user",
         "modifiedTime": "2025-01-02T03:04:05.123456789+02:00",
         "symlinkTarget": "/x", "metadata": {"a": "b"}}
SEEDS["envd_messages"] = [
    b"\x00" + start, b"\x00" + data, b"\x00" + end, b"\x00" + keep,
    b"\x00" + j({"event": {"data": {"pty": "not base64!"}}}),
    b"\x00" + j({"event": {"start": {"pid": -1}}}),
    # Shapes the tree-free event decoder takes or leaves to the tree.
    b"\x00" + j({"event": {"data": {"stderr": "ZXJyCg==", "stdout": None}}}),
    b"\x00" + j({"event": {"end": {"exitCode": 1, "exited": True,
                                   "status": "exit status 1", "error": "x"}}}),
    b"\x00" + j({"event": {"end": {"exit_code": "3", "status": "exit status 3"}}}),
    b"\x00" + j({"event": {"start": {"pid": 7}, "keepalive": {}}}),
    b"\x00" + j(entry),
    b"\x00" + j({"name": "f", "type": "EVENT_TYPE_WRITE", "entry": entry}),
    b"\x00" + j({"type": 3, "entry": {"type": 2}}),
    b"\x012025-01-02T03:04:05Z",
    b"\x012262-04-12T00:00:00Z",
    b"\x019999-12-31T23:59:60.999999999-23:59",
    b"\x010000-01-01T00:00:00z",
    b"\x02aGVsbG8gd29ybGQ=",
    b"\x02aGVsbG8gd29ybGQ",
    b"\x02-_-_",
    b"\x03" + "héllo wörld €𝄞".encode(),
    b"\x07" + b"\xe2\x82\xff\xf0\x9f\x98\x80\xed\xa0\x80\xc0\xaf",
]

SEEDS["url"] = [
    short("https://api.e2b.app/") + short("/sandboxes/a b") + short("") + b"\x02" + short("metadata") + short("a=b&c") + short("limit") + short("10"),
    short("https://user:SECRET@host:8080/p?sig=SECRET#frag") + short("host") + short("/x"),
    short("http://[::1]:3000") + short("x") + short("65536"),
    short("HTTP://h:0") + short("h") + short("1"),
    short("ftp://h") + short("") + short("a:b@c"),
    short("http://h\r\nX: y") + short("%zz%41+") + short(""),
]

SEEDS["local_wire"] = [
    b"\x00" + j({"templateID": "base", "timeout": 15, "autoPause": True, "metadata": {"a": "b"}, "envVars": {"K": "V"}}),
    b"\x04",
    b"\x00" + j({"timeout": "12", "count": 1.0, "cpuCount": 1e300, "metadata": {"a": 1}}),
    b"\x00" + b'{"timeout": 9223372036854775808}',
    b"\x00[1,2]",
    b"\x01" + b"a%3Db%26c%3D%2525",
    b"\x01" + b"-9223372036854775808",
    b"\x01" + b"b2Zmc2V0OjEyMw",
    b"\x01" + b"%zz+%",
    b"\x022025-01-02T03:04:05.123Z",
    b"\x029999-12-31T23:59:60.9999+23:59",
    b"\x020000-01-01T00:00:00-23:59",
    b"\x03" + b"offset",
]

paths = [("~/up/sentinel", "~/x"), ("../../outside/sentinel", "/a"),
         ("/home/user/abs/sentinel", "~/moved"), ("~/slash/tmp", "~/y"),
         ("~/magic/etc/passwd", "/"), ("~/loop/x", "~/loop"),
         ("~other/x", "~"), ("a\x00b", "./././.."), ("", "~/dir/../file.txt")]
local_paths = []
for op in range(11):
    for i, (a, b) in enumerate(paths):
        if (op + i) % 3 == 0:
            local_paths.append(bytes([op | (0x80 if i % 2 else 0)]) + short(a) + short(b))
local_paths.append(b"".join(bytes([op]) + short("~/up/new") + short("~/abs/new2") for op in (1, 3, 9)))
SEEDS["local_paths"] = local_paths


def post_raw(path, chunks, headers=0, extra=b""):
    out = b"\x00" + bytes([1]) + short(path) + bytes([headers]) + extra
    out += bytes([len(chunks)]) + b"".join(short(c) for c in chunks)
    return out


def post_multi(path, parts, headers=0):
    out = b"\x01" + bytes([1 if path is not None else 0])
    if path is not None:
        out += short(path)
    out += bytes([headers]) + bytes([len(parts)])
    for name, filename, chunks in parts:
        out += (b"\x01" if name == "file" else b"\x00" + short(name))
        out += short(filename) + bytes([len(chunks)]) + b"".join(short(c) for c in chunks)
    return out


def get(path, headers=0, extra=b""):
    return b"\x02" + short(path) + bytes([headers]) + extra + b"\x00"


SEEDS["local_files"] = [
    b"\x00" + post_raw("~/new.txt", ["hello ", "world"]) + get("~/new.txt"),
    b"\x00" + post_raw("~/up/evil", ["x"]) + get("~/up/sentinel") + get("~/abs/sentinel"),
    b"\x00" + post_multi(None, [("file", "~/a.txt", ["a"]), ("other", "x", ["b"]), ("file", "/home/user/abs/b", ["c"])]),
    b"\x00" + post_multi("~/dup", [("file", "", ["1"]), ("file", "", ["2"])]),
    b"\x01" + post_raw("~/t", ["x"], headers=1 | 2) + get("~/file.txt", headers=1 | 2),
    b"\x01" + post_raw("~/t", ["x"], headers=128, extra=short("v1_bad") + short("99999999999999999999")),
    b"\x00" + get("~/slash/etc/hostname") + get("~/magic/etc/hostname") + get("~/loop"),
    b"\x00" + get("~/file.txt", headers=16, extra=short("Thu, 01 Jan 2099 00:00:00 GMT")),
    b"\x00" + post_raw("~/gz", ["\x1f\x8b\x08\x00"], headers=8, extra=short("gzip")),
]


def rpc(index, req, flags=0):
    body = j(req)
    body += b" " * ((4 - len(body) % 4) % 4)
    return bytes([index | flags, len(body) // 4]) + body


SEEDS["local_envd_rpc"] = [
    rpc(0, {"path": "~/up/sentinel"}) + rpc(1, {"path": "~/abs", "depth": 3}),
    rpc(2, {"path": "~/up/newdir"}) + rpc(2, {"path": "/home/user/abs/x"}),
    rpc(3, {"source": "~/file.txt", "destination": "~/up/stolen"}),
    rpc(3, {"source": "~/abs/sentinel", "destination": "~/here"}),
    rpc(4, {"path": "~/up/sentinel"}) + rpc(4, {"path": "~/slash/tmp"}) + rpc(4, {"path": "~/abs"}),
    rpc(5, {"path": "~", "recursive": True}) + rpc(6, {"watcherId": "w"}) + rpc(7, {"watcher_id": "w"}),
    rpc(8, {}) + rpc(9, {"process": {"pid": 1}, "input": {"stdin": "eA=="}}),
    rpc(10, {"process": {"tag": "t"}, "signal": "SIGNAL_SIGKILL"}) + rpc(11, {"process": {"pid": "4294967296"}}),
    rpc(12, {"process": {"pid": 1}, "pty": {"size": {"cols": 0, "rows": 70000}}}, 0x80),
]


def framing(flags, auth, timeout, keepalive, content_type, sandbox, host, body):
    return (bytes([flags]) + short(auth) + short(timeout) + short(keepalive)
            + short(content_type) + short(sandbox) + short(host)
            + (body if isinstance(body, bytes) else body.encode()))


SEEDS["local_connect_framing"] = [
    framing(1, "Basic cm9vdDo=", "1500", "30", "application/json", "sbx1", "",
            j({"path": "/home/user"})),
    framing(0, "basic dXNlcjpwdw==", "", "", "application/connect+json", "",
            "49983-sbx1.localhost", env(0, j({"process": {"cmd": "ls"}}))),
    framing(1, "Basic !!!", " 12345678901 ", "0", "Application/JSON; x=y", " ",
            "[::1]:80", env(2, "{}") + env(0, "{}")),
    framing(1, "Bearer x", "1e3", "-5", "", "a" * 40, "80-", b"\x00\xff\xff\xff\xff"),
]

SEEDS["local_control_plane"] = [
    bytes([m]) + t.encode() for m, t in [
        (1, "/sandboxes"), (0, "/sandboxes?metadata=a%3Db"), (0, "/v2/sandboxes"),
        (0, "/sandboxes/metrics?sandbox_ids=a,b"), (0, "/sandboxes/s1"),
        (3, "/sandboxes/s1"), (1, "/sandboxes/s1/timeout"), (1, "/v2/sandboxes/s1/connect"),
        (0, "/v2/sandboxes/s1/logs"), (2, "/sandboxes/s1/network"), (0, "/snapshots"),
        (1, "/v3/templates"), (0, "/templates/team/t1"), (3, "/templates/a%2Fb"),
        (0, "/templates/t1/builds/b1/status"), (0, "//health/"), (0, "/sandboxes/%zz"),
    ]
] + [b"\x80" + short("BREW") + b"/sandboxes/s1/pause"]


def main():
    for target, seeds in SEEDS.items():
        d = os.path.join(ROOT, target)
        os.makedirs(d, exist_ok=True)
        for seed in seeds:
            name = hashlib.sha1(seed).hexdigest()[:16]
            with open(os.path.join(d, "seed-" + name), "wb") as f:
                f.write(seed)
    print("wrote", sum(len(s) for s in SEEDS.values()), "seeds", file=sys.stderr)


if __name__ == "__main__":
    main()
