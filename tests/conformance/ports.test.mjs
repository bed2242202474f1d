// Sandbox ports through the edge: sandbox.getHost(port) names a server
// started in the sandbox, a closed port answers the edge's 502, and a
// sandbox created with network.allowPublicTraffic=false opens its ports only
// to its trafficAccessToken. The request goes where a user on this machine
// sends it: to E2B_SANDBOX_URL (e2b-local's edge), with getHost()'s name as
// the Host header, since nothing resolves it without DNS.
import assert from 'node:assert/strict';
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
