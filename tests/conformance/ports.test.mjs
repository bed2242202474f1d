// Sandbox ports through the edge: sandbox.getHost(port) names a server
// started in the sandbox, a closed port answers the edge's 502, and a
// sandbox created with network.allowPublicTraffic=false opens its ports only
// to its trafficAccessToken. The request goes where a user on this machine
// sends it: to E2B_SANDBOX_URL (e2b-local's edge), with getHost()'s name as
// the Host header, since nothing resolves it without DNS.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { test } from 'node:test';

import {
  createSandbox,
  pollUntil,
  requireServerEnv,
  TEST_TIMEOUT_MS,
  uniqueTag,
} from './helpers.mjs';

const { sandboxUrl } = requireServerEnv();
const opts = { timeout: TEST_TIMEOUT_MS };

// GET / at `host` through the edge; resolves {status, body}.
function get(host, headers = {}) {
  const edge = new URL(sandboxUrl);
  return new Promise((resolve, reject) => {
    const req = request(
        {
          hostname: edge.hostname,
          port: edge.port,
          path: '/',
          method: 'GET',
          headers: { host, ...headers },
          timeout: 20_000,
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk) => { body += chunk; });
          res.on('end', () => resolve({ status: res.statusCode, body }));
        });
    req.on('timeout', () => req.destroy(new Error('edge request timed out')));
    req.on('error', reject);
    req.end();
  });
}

// Serves `page` as / on `port` with python's http.server, and waits until
// the edge reaches it.
async function servePage(sbx, port, page, headers = {}) {
  const dir = `/tmp/www${port}`;
  await sbx.files.write(`${dir}/index.html`, page);
  await sbx.commands.run(
      `cd ${dir} && exec python3 -m http.server ${port} --bind 0.0.0.0`,
      { background: true });
  await pollUntil(async () => (await get(sbx.getHost(port), headers)).status ===
                      200,
                  `the server on port ${port}`);
}

test('getHost reaches a web server started in the sandbox', opts,
     async (t) => {
       const sbx = await createSandbox(t, { metadata: { suite: uniqueTag('ports') } });
       const host = sbx.getHost(8000);
       assert.match(host, new RegExp(`^8000-${sbx.sandboxId}\\.`));
       await servePage(sbx, 8000, 'hello through the edge\n');
       const res = await get(host);
       assert.equal(res.status, 200);
       assert.equal(res.body, 'hello through the edge\n');
     });

test('a closed port answers the edge\'s 502', opts, async (t) => {
  const sbx = await createSandbox(t, { metadata: { suite: uniqueTag('ports') } });
  const res = await get(sbx.getHost(8123));
  assert.equal(res.status, 502);
  const body = JSON.parse(res.body);
  assert.equal(body.sandboxId, sbx.sandboxId);
  assert.equal(body.port, 8123);
  assert.equal(body.code, 502);
  assert.match(body.message, /port is not open/);
});

test('allowPublicTraffic=false: ports need the trafficAccessToken', opts,
     async (t) => {
       const sbx = await createSandbox(t, {
         secure: true,
         network: { allowPublicTraffic: false },
         metadata: { suite: uniqueTag('ports') },
       });
       assert.ok(sbx.trafficAccessToken, 'no trafficAccessToken');
       const token = { 'e2b-traffic-access-token': sbx.trafficAccessToken };
       await servePage(sbx, 8000, 'private\n', token);
       const host = sbx.getHost(8000);
       assert.equal((await get(host)).status, 403);
       assert.equal(
           (await get(host, { 'e2b-traffic-access-token': 'wrong' })).status,
           403);
       const ok = await get(host, token);
       assert.equal(ok.status, 200);
       assert.equal(ok.body, 'private\n');
     });

test('network.maskRequestHost is the Host the sandbox server sees', opts,
     async (t) => {
       const sbx = await createSandbox(t, {
         network: { maskRequestHost: 'app-${PORT}.internal' },
         metadata: { suite: uniqueTag('ports') },
       });
       // A server that answers with the Host it was sent.
       await sbx.files.write('/tmp/host.py', [
         'import http.server',
         'class H(http.server.BaseHTTPRequestHandler):',
         '    def do_GET(self):',
         '        out = self.headers.get("Host", "").encode()',
         '        self.send_response(200)',
         '        self.send_header("Content-Length", str(len(out)))',
         '        self.end_headers()',
         '        self.wfile.write(out)',
         'http.server.HTTPServer(("0.0.0.0", 8002), H).serve_forever()',
         '',
       ].join('\n'));
       await sbx.commands.run('python3 /tmp/host.py', { background: true });
       const res = await pollUntil(async () => {
         const r = await get(sbx.getHost(8002));
         return r.status === 200 ? r : null;
       }, 'the server on port 8002');
       assert.equal(res.body, 'app-8002.internal');
     });

// An RFC 6455 echo server from python's standard library (no pip in the
// sandbox needed): the handshake's Sec-WebSocket-Accept, then every frame
// echoed until a close frame.
const WS_ECHO_SERVER = String.raw`import base64, hashlib, socket, struct, sys, threading
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
def exactly(c, n):
    out = b""
    while len(out) < n:
        d = c.recv(n - len(out))
        if not d:
            raise EOFError
        out += d
    return out
def serve(c):
    try:
        head = b""
        while b"\r\n\r\n" not in head:
            d = c.recv(4096)
            if not d:
                return
            head += d
        key = b""
        for line in head.split(b"\r\n")[1:]:
            if line.lower().startswith(b"sec-websocket-key:"):
                key = line.split(b":", 1)[1].strip()
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
        c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                  b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")
        while True:
            b0, b1 = exactly(c, 2)
            n = b1 & 127
            if n == 126:
                n = struct.unpack(">H", exactly(c, 2))[0]
            elif n == 127:
                n = struct.unpack(">Q", exactly(c, 8))[0]
            mask = exactly(c, 4) if b1 & 128 else b"\0\0\0\0"
            data = bytes(x ^ mask[i % 4] for i, x in enumerate(exactly(c, n)))
            hdr = bytes([0x80 | (b0 & 15), n]) if n < 126 else bytes([0x80 | (b0 & 15), 126]) + struct.pack(">H", n)
            c.sendall(hdr + data)
            if b0 & 15 == 8:
                return
    except (EOFError, OSError):
        pass
    finally:
        c.close()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(16)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
`;

// Sends a WebSocket upgrade for `host` through the edge; resolves
// {status, headers, socket} (socket only after a 101).
function upgrade(host, key, headers = {}) {
  const edge = new URL(sandboxUrl);
  return new Promise((resolve, reject) => {
    const req = request({
      hostname: edge.hostname,
      port: edge.port,
      path: '/chat',
      headers: {
        host,
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': key,
        ...headers,
      },
      timeout: 20_000,
    });
    req.on('upgrade', (res, socket, head) => {
      if (head.length > 0) socket.unshift(head);
      resolve({ status: res.statusCode, headers: res.headers, socket });
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers }));
    });
    req.on('timeout', () => req.destroy(new Error('edge request timed out')));
    req.on('error', reject);
    req.end();
  });
}

// A masked client frame (RFC 6455 5.2), payload under 64 KiB.
function maskedFrame(opcode, payload) {
  const mask = randomBytes(4);
  const size = payload.length < 126 ? Buffer.from([0x80 | payload.length])
                                    : Buffer.from([0x80 | 126, payload.length >> 8,
                                                   payload.length & 0xff]);
  const body = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
  return Buffer.concat([Buffer.from([0x80 | opcode]), size, mask, body]);
}

// The next unmasked server frame on `socket`: {opcode, payload}.
function readFrame(socket) {
  return new Promise((resolve, reject) => {
    let data = Buffer.alloc(0);
    const onData = (chunk) => {
      data = Buffer.concat([data, chunk]);
      if (data.length < 2) return;
      let n = data[1] & 127;
      let at = 2;
      if (n === 126) {
        if (data.length < 4) return;
        n = data.readUInt16BE(2);
        at = 4;
      }
      if (data.length < at + n) return;
      socket.off('data', onData);
      resolve({ opcode: data[0] & 15, payload: data.subarray(at, at + n) });
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

test('a WebSocket reaches a server in the sandbox through getHost', opts,
     async (t) => {
       const sbx = await createSandbox(t, { metadata: { suite: uniqueTag('ports') } });
       await sbx.files.write('/tmp/ws.py', WS_ECHO_SERVER);
       await sbx.commands.run('python3 /tmp/ws.py 8765', { background: true });
       const key = randomBytes(16).toString('base64');
       const res = await pollUntil(async () => {
         const r = await upgrade(sbx.getHost(8765), key);
         if (r.status !== 101) return null;
         return r;
       }, 'the WebSocket server on port 8765');
       const { socket } = res;
       t.after(() => socket.destroy());
       const expected = createHash('sha1')
                            .update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
                            .digest('base64');
       assert.equal(res.headers['sec-websocket-accept'], expected);
       assert.equal(res.headers.upgrade, 'websocket');
       for (const text of ['hello through the edge', 'x'.repeat(40_000)]) {
         socket.write(maskedFrame(0x1, Buffer.from(text)));
         const echo = await readFrame(socket);
         assert.equal(echo.opcode, 0x1);
         assert.equal(echo.payload.toString(), text);
       }
       socket.write(maskedFrame(0x8, Buffer.alloc(0)));
       assert.equal((await readFrame(socket)).opcode, 0x8);
       await new Promise((resolve) => socket.once('close', resolve));
       // A closed port answers the upgrade with the edge's 502.
       assert.equal((await upgrade(sbx.getHost(8766), key)).status, 502);
     });
