// Template builds through the official SDK's Template builder: the files of
// a copy step hashed, uploaded through e2b-local's upload link and unpacked
// in the build sandbox; run, env, user and workdir steps; a start command
// with a ready check; the build cache; a failing step as BuildError; and
// sandboxes started from the result.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { BuildError, Template, waitForFile } from 'e2b';

import {
  createSandbox,
  expectReject,
  requireServerEnv,
  uniqueTag,
} from './helpers.mjs';

requireServerEnv();

const opts = { timeout: 600_000 };

function contextDir(t) {
  const dir = mkdtempSync(join(tmpdir(), 'e2b-template-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'app', 'nested'), { recursive: true });
  writeFileSync(join(dir, 'app', 'hello.txt'), 'hello from js\n');
  writeFileSync(join(dir, 'app', 'nested', 'deep.txt'), 'deep\n');
  writeFileSync(join(dir, 'config.json'), '{"ok":true}\n');
  return dir;
}

test('the JS builder builds a template sandboxes start from', opts, async (t) => {
  const dir = contextDir(t);
  const name = uniqueTag('js-tmpl');
  const template = Template({ fileContextPath: dir })
    .fromBaseImage()
    .runCmd('echo js-built-as-$(whoami) > /etc/js-built')
    .copy('app', '/srv/app/')
    .copy('config.json', '/etc/app/config.json', { mode: 0o640 })
    .setEnvs({ JS_MODE: 'conformance' })
    .setUser('user')
    .setWorkdir('/home/user/work')
    .runCmd('whoami > me.txt && echo "$JS_MODE" >> me.txt')
    .setStartCmd('touch /tmp/js-started && sleep 100000',
        waitForFile('/tmp/js-started'));
  const logs = [];
  const info = await Template.build(template, name, {
    onBuildLogs: (entry) => logs.push(entry.message),
  });
  assert.ok(info.templateId, 'a template ID');
  assert.ok(logs.some((l) => /Uploaded 'app'/.test(l)), logs.join('\n'));
  assert.ok(logs.some((l) => /RUN whoami/.test(l)), logs.join('\n'));

  const sbx = await createSandbox(t, name);
  const run = async (cmd) => (await sbx.commands.run(cmd)).stdout;
  assert.equal(await run('cat /etc/js-built'), 'js-built-as-root\n');
  assert.equal(await run('cat /srv/app/hello.txt'), 'hello from js\n');
  assert.equal(await run('cat /srv/app/nested/deep.txt'), 'deep\n');
  assert.equal(await run('stat -c %a /etc/app/config.json'), '640\n');
  assert.equal(await run('cat /home/user/work/me.txt'), 'user\nconformance\n');
  assert.equal(await run('whoami'), 'user\n');
  assert.equal(await run('pwd'), '/home/user/work\n');
  assert.equal(await run('echo $JS_MODE'), 'conformance\n');
  assert.equal(await sbx.files.exists('/tmp/js-started'), true,
      'create returned before the ready command passed');
  const processes = await sbx.commands.list();
  assert.ok(processes.some((p) => p.args.some((a) => a.includes('js-started'))),
      'the start command runs as an envd process');

  // The same template again: every step cached, the files not uploaded.
  const again = [];
  await Template.build(template, `${name}-again`, {
    onBuildLogs: (entry) => again.push(entry.message),
  });
  assert.ok(again.some((l) => /already cached/.test(l)), again.join('\n'));
  assert.ok(again.some((l) => /CACHED \[1\//.test(l)), again.join('\n'));
  // skipCache runs them again.
  const forced = [];
  await Template.build(template, `${name}-forced`, {
    skipCache: true,
    onBuildLogs: (entry) => forced.push(entry.message),
  });
  assert.ok(!forced.some((l) => /CACHED/.test(l)), forced.join('\n'));
});

test('a failing step is a BuildError naming it', opts, async () => {
  const template = Template()
    .fromTemplate('base')
    .runCmd('echo ok')
    .runCmd('echo failing-now >&2 && exit 7');
  const logs = [];
  const err = await expectReject(assert,
      Template.build(template, uniqueTag('js-fail'), {
        onBuildLogs: (entry) => logs.push(entry.message),
      }),
      BuildError, 'a failing RUN step');
  assert.match(err.message, /step 2/);
  assert.match(err.message, /exit status 7/);
  assert.ok(logs.some((l) => /failing-now/.test(l)), logs.join('\n'));
});

test('an image from a registry fails with a clear message', opts, async () => {
  const template = Template().fromImage('python:3.12-slim').runCmd('true');
  const err = await expectReject(assert,
      Template.build(template, uniqueTag('js-image')), BuildError,
      'an image e2b-local cannot pull');
  assert.match(err.message, /python:3\.12-slim/);
  assert.match(err.message, /registry/);
});
