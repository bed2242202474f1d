// Restarts of the server under its sandboxes, as E2B's API servers restart
// under theirs: paused sandboxes (with or without memory) come back paused
// with their files, after a clean stop (SIGTERM) and after a crash
// (SIGKILL). The test runs servers of its own (E2B_LOCAL_BIN, exported by
// run.sh) on a state directory it owns, so it can stop and kill them.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { Sandbox } from 'e2b';

import { requireServerEnv, TEST_TIMEOUT_MS, uniqueTag } from './helpers.mjs';

requireServerEnv();

const binary = process.env.E2B_LOCAL_BIN;
const apiKey = `e2b_${randomBytes(20).toString('hex')}`;

// Starts the binary on `stateDir` and resolves with the child and the
// connection options its three startup lines give.
async function startServer(stateDir) {
  const child = spawn(binary, [
    '--host', '127.0.0.1', '--api-port', '0', '--envd-port', '0',
    '--state-dir', stateDir, '--api-key', apiKey,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  const lines = await new Promise((resolve, reject) => {
    const timer = setTimeout(
        () => reject(new Error(`no startup lines in 30 s: ${err}`)), 30_000);
    child.stdout.on('data', (d) => {
      out += d;
      const api = /^E2B_API_URL=(.*)$/m.exec(out);
      const sbx = /^E2B_SANDBOX_URL=(.*)$/m.exec(out);
      if (api && sbx) {
        clearTimeout(timer);
        resolve({ apiUrl: api[1].trim(), sandboxUrl: sbx[1].trim() });
      }
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
  return { child, stderr: () => err, opts: { apiKey, ...lines } };
}

function stopServer(server, signal) {
  return new Promise((resolve) => {
    if (server.child.exitCode !== null) return resolve();
    server.child.once('exit', () => resolve());
    server.child.kill(signal);
  });
}

test('paused sandboxes come back after a clean stop and after a crash',
    { timeout: TEST_TIMEOUT_MS * 2 }, async () => {
      const stateDir = mkdtempSync(join(tmpdir(), 'e2b-conf-restart-'));
      let server = await startServer(stateDir);
      try {
        const tag = uniqueTag('restart');
        const withMemory = await Sandbox.create(
            { ...server.opts, metadata: { suite: tag, kind: 'memory' } });
        await withMemory.files.write('/home/user/a.txt', 'with memory');
        await withMemory.pause();
        const filesOnly = await Sandbox.create(
            { ...server.opts, metadata: { suite: tag, kind: 'files' } });
        await filesOnly.files.write('/tmp/b.txt', 'files only');
        await filesOnly.pause({ keepMemory: false });
        const running = await Sandbox.create(
            { ...server.opts, metadata: { suite: tag, kind: 'running' } });

        for (const signal of ['SIGTERM', 'SIGKILL']) {
          await stopServer(server, signal);
          server = await startServer(stateDir);
          const listed = [];
          const pages = Sandbox.list(
              { ...server.opts, query: { metadata: { suite: tag } } });
          while (pages.hasNext) listed.push(...await pages.nextItems());
          const states = Object.fromEntries(
              listed.map((s) => [s.sandboxId, s.state]));
          assert.deepEqual(states, {
            [withMemory.sandboxId]: 'paused',
            [filesOnly.sandboxId]: 'paused',
          }, `after ${signal}: ${JSON.stringify(states)}; ${running.sandboxId} ` +
             'was running and ends with the server');
          assert.match(server.stderr(), /recovered 2 paused sandbox/);
        }

        const a = await Sandbox.connect(withMemory.sandboxId, server.opts);
        assert.equal(await a.files.read('/home/user/a.txt'), 'with memory');
        assert.equal((await a.getInfo()).metadata.kind, 'memory');
        const b = await Sandbox.connect(filesOnly.sandboxId, server.opts);
        assert.equal(await b.files.read('/tmp/b.txt'), 'files only');
        assert.equal((await b.commands.run('echo up')).stdout, 'up\n');
        await a.kill();
        await b.kill();
      } finally {
        // A clean stop after the crash: the last server has reclaimed
        // what the killed one left mounted.
        await stopServer(server, 'SIGTERM');
        rmSync(stateDir, { recursive: true, force: true });
      }
    });
