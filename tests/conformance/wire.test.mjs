// Wire-level facts the official SDK depends on but does not surface
// directly: health endpoints, error bodies the SDK classifies by, envd
// routing (header and Host), access-token enforcement and Connect framing.
// These use plain fetch / node:http against the URLs run.sh exported.
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';

import { AuthenticationError, Sandbox } from 'e2b';

import {
  createSandbox,
  expectReject,
  requireServerEnv,
  TEST_TIMEOUT_MS,
  unknownSandboxId,
} from './helpers.mjs';

const env = requireServerEnv();
const opts = { timeout: TEST_TIMEOUT_MS };
const WRONG_KEY = `e2b_${'0'.repeat(40)}`;

// envdAccessToken is a protected field of the SDK's Sandbox (TypeScript only
// hides it); the raw calls below need it to authenticate like the SDK does.
function accessToken(sbx) {
  assert.equal(typeof sbx.envdAccessToken, 'string',
      'every sandbox must carry an envdAccessToken (the 2.51 SDK expects it)');
  assert.ok(sbx.envdAccessToken.length > 0);
  return sbx.envdAccessToken;
}

function envdHeaders(sbx, extra = {}) {
  return {
    'E2b-Sandbox-Id': sbx.sandboxId,
    'E2b-Sandbox-Port': '49983',
    'X-Access-Token': accessToken(sbx),
    'Connect-Protocol-Version': '1',
    ...extra,
  };
}

async function unary(sbx, method, body, headers) {
  return fetch(`${env.sandboxUrl}/${method}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

function envelope(obj, flags = 0) {
  const payload = Buffer.from(JSON.stringify(obj), 'utf8');
  const head = Buffer.alloc(5);
  head.writeUInt8(flags, 0);
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

function parseEnvelopes(buf) {
  const out = [];
  let off = 0;
  while (off < buf.length) {
    assert.ok(buf.length - off >= 5, `truncated envelope header at ${off}`);
    const flags = buf.readUInt8(off);
    const len = buf.readUInt32BE(off + 1);
    assert.ok(buf.length - off - 5 >= len, `truncated envelope body at ${off}`);
    const json = JSON.parse(buf.subarray(off + 5, off + 5 + len).toString());
    out.push({ flags, json });
    off += 5 + len;
  }
  return out;
}

function assertApiError(body, status) {
  assert.equal(body.code, status, `error body ${JSON.stringify(body)}`);
  assert.equal(typeof body.message, 'string');
}

test('GET /health answers on the API and the envd listener', opts,
    async () => {
      const api = await fetch(`${env.apiUrl}/health`);
      assert.ok(api.status >= 200 && api.status < 300, `api ${api.status}`);
      const envd = await fetch(`${env.sandboxUrl}/health`);
      assert.ok(envd.status >= 200 && envd.status < 300, `envd ${envd.status}`);
    });

test('control plane rejects a missing or wrong API key with 401 JSON', opts,
    async () => {
      const none = await fetch(`${env.apiUrl}/v2/sandboxes`);
      assert.equal(none.status, 401);
      assertApiError(await none.json(), 401);
      const wrong = await fetch(
          `${env.apiUrl}/v2/sandboxes`, { headers: { 'X-API-Key': WRONG_KEY } });
      assert.equal(wrong.status, 401);
      assertApiError(await wrong.json(), 401);
      // The SDK classifies these as AuthenticationError.
      await expectReject(assert,
          Sandbox.list({ apiKey: WRONG_KEY }).nextItems(), AuthenticationError,
          'list with a wrong key');
      await expectReject(assert, Sandbox.create({ apiKey: WRONG_KEY }),
          AuthenticationError, 'create with a wrong key');
    });

test('control plane error bodies: 404 for unknown sandbox, 400 for bad JSON',
    opts, async () => {
      const headers = { 'X-API-Key': env.apiKey };
      const missing = await fetch(
          `${env.apiUrl}/sandboxes/${unknownSandboxId()}`, { headers });
      assert.equal(missing.status, 404);
      assertApiError(await missing.json(), 404);

      const bad = await fetch(`${env.apiUrl}/v2/sandboxes`, {
        method: 'POST',
        headers: { ...headers, 'Content-Type': 'application/json' },
        body: '{"templateID": "base",',
      });
      assert.equal(bad.status, 400);
      assertApiError(await bad.json(), 400);
    });

test('v1 POST /sandboxes and DELETE /sandboxes/{id} are served too', opts,
    async () => {
      const headers =
          { 'X-API-Key': env.apiKey, 'Content-Type': 'application/json' };
      const res = await fetch(`${env.apiUrl}/sandboxes`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ templateID: 'base', timeout: 60 }),
      });
      assert.equal(res.status, 201);
      const body = await res.json();
      try {
        assert.match(body.sandboxID, /^i[a-z0-9]{20}$/);
        assert.equal(body.envdVersion, '0.6.4');
        assert.equal(typeof body.templateID, 'string');
      } finally {
        const del = await fetch(`${env.apiUrl}/sandboxes/${body.sandboxID}`,
            { method: 'DELETE', headers });
        assert.equal(del.status, 204);
      }
    });

test('envd answers 502 JSON for an unknown sandbox', opts, async () => {
  const id = unknownSandboxId();
  const res = await fetch(`${env.sandboxUrl}/filesystem.Filesystem/Stat`, {
    method: 'POST',
    headers: {
      'E2b-Sandbox-Id': id,
      'E2b-Sandbox-Port': '49983',
      'Content-Type': 'application/json',
      'Connect-Protocol-Version': '1',
    },
    body: JSON.stringify({ path: '/' }),
  });
  assert.equal(res.status, 502);
  const body = await res.json();
  assert.equal(body.sandboxId, id);
  assert.equal(body.code, 502);
  assert.equal(typeof body.message, 'string');
});

test('envd enforces X-Access-Token and routes by header or Host', opts,
    async (t) => {
      const sbx = await createSandbox(t);
      const noToken = await unary(sbx, 'filesystem.Filesystem/Stat',
          { path: '/home/user' },
          { 'E2b-Sandbox-Id': sbx.sandboxId, 'Connect-Protocol-Version': '1' });
      assert.equal(noToken.status, 401);
      const wrongToken = await unary(sbx, 'filesystem.Filesystem/Stat',
          { path: '/home/user' },
          envdHeaders(sbx, { 'X-Access-Token': 'not-the-token' }));
      assert.equal(wrongToken.status, 401);

      const ok = await unary(sbx, 'filesystem.Filesystem/Stat',
          { path: '/home/user' }, envdHeaders(sbx));
      assert.equal(ok.status, 200);
      assert.match(ok.headers.get('content-type'), /^application\/json/);
      const { entry } = await ok.json();
      assert.equal(entry.type, 'FILE_TYPE_DIRECTORY');
      assert.equal(entry.path, '/home/user');
      assert.equal(entry.name, 'user');
      // int64 fields are decimal strings in protobuf JSON.
      assert.equal(typeof entry.size, 'string');

      // Host-based routing: <port>-<sandboxID>.<anything>.
      const url = new URL(env.sandboxUrl);
      const viaHost = await new Promise((resolve, reject) => {
        const req = http.request({
          host: url.hostname,
          port: url.port,
          method: 'POST',
          path: '/filesystem.Filesystem/Stat',
          headers: {
            'Host': `49983-${sbx.sandboxId}.localhost`,
            'Content-Type': 'application/json',
            'Connect-Protocol-Version': '1',
            'X-Access-Token': accessToken(sbx),
          },
        }, (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => resolve(
              { status: res.statusCode, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(JSON.stringify({ path: '/home/user' }));
      });
      assert.equal(viaHost.status, 200, viaHost.body.toString());
      assert.equal(JSON.parse(viaHost.body).entry.path, '/home/user');

      // Connect errors carry a string code.
      const missing = await unary(sbx, 'filesystem.Filesystem/Stat',
          { path: '/definitely/not/here' }, envdHeaders(sbx));
      assert.equal(missing.status, 404);
      const err = await missing.json();
      assert.equal(err.code, 'not_found');
      assert.equal(typeof err.message, 'string');

      // An unknown user in Basic auth is refused.
      const badUser = await unary(sbx, 'filesystem.Filesystem/Stat',
          { path: '/' }, envdHeaders(sbx, {
            Authorization: `Basic ${Buffer.from('nobody-here:').toString('base64')}`,
          }));
      assert.equal(badUser.status, 401);
    });

test('process.Process/Start streams Connect envelopes ending in 0x02', opts,
    async (t) => {
      const sbx = await createSandbox(t);
      const res = await fetch(`${env.sandboxUrl}/process.Process/Start`, {
        method: 'POST',
        headers: envdHeaders(sbx, {
          'Content-Type': 'application/connect+json',
          'Connect-Timeout-Ms': '30000',
        }),
        body: envelope({
          process: { cmd: '/bin/bash', args: ['-c', 'echo hi; exit 3'] },
          stdin: false,
        }),
      });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type'),
          /^application\/connect\+json/);
      const frames = parseEnvelopes(Buffer.from(await res.arrayBuffer()));
      assert.ok(frames.length >= 3, JSON.stringify(frames));
      const first = frames[0].json;
      assert.ok(first.event?.start?.pid > 0, JSON.stringify(first));
      const last = frames[frames.length - 1];
      assert.equal(last.flags & 0x02, 0x02, 'last frame must be end-of-stream');
      assert.equal(last.json.error, undefined, JSON.stringify(last.json));
      const data = frames.slice(1, -1)
          .map((f) => f.json.event?.data?.stdout)
          .filter(Boolean)
          .map((b64) => Buffer.from(b64, 'base64').toString())
          .join('');
      assert.equal(data, 'hi\n');
      const end = frames.map((f) => f.json.event?.end).find(Boolean);
      assert.ok(end, 'no end event');
      assert.equal(end.exitCode, 3);
      assert.equal(end.exited, true);

      // An error before the stream starts arrives in the end-of-stream frame.
      const bad = await fetch(`${env.sandboxUrl}/process.Process/Connect`, {
        method: 'POST',
        headers: envdHeaders(sbx, { 'Content-Type': 'application/connect+json' }),
        body: envelope({ process: { pid: 2_000_000_000 } }),
      });
      assert.equal(bad.status, 200);
      const badFrames = parseEnvelopes(Buffer.from(await bad.arrayBuffer()));
      const tail = badFrames[badFrames.length - 1];
      assert.equal(tail.flags & 0x02, 0x02);
      assert.equal(tail.json.error?.code, 'not_found', JSON.stringify(tail.json));
    });
