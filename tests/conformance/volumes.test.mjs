// Volumes through the official SDK's Volume class: management on the API
// (create, getInfo, connect, list, destroy), content with the volume's own
// token (/volumecontent), and mounts into sandboxes (volumeMounts). The SDK
// sends content requests to E2B_VOLUME_API_URL, which run.sh points at
// e2b-local's API port as a user would.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';

import {
  AuthenticationError,
  Sandbox,
  SandboxError,
  Volume,
  VolumeError,
  VolumeFileType,
  VolumeNotFoundError,
  VolumePathNotFoundError,
} from 'e2b';

import {
  createSandbox,
  expectReject,
  readAll,
  requireServerEnv,
  TEST_TIMEOUT_MS,
  uniqueTag,
} from './helpers.mjs';

requireServerEnv();
assert.ok(process.env.E2B_VOLUME_API_URL,
    'run the suite through run.sh: it sets E2B_VOLUME_API_URL');

const opts = { timeout: TEST_TIMEOUT_MS };
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// A volume that is destroyed when the test ends, whatever happened.
async function createVolume(t, label = 'vol') {
  const volume = await Volume.create(uniqueTag(label));
  t.after(async () => {
    try {
      await Volume.destroy(volume.volumeId);
    } catch {
      // Already gone.
    }
  });
  return volume;
}

test('create, getInfo, connect, list and destroy', opts, async (t) => {
  const name = uniqueTag('mgmt');
  const volume = await Volume.create(name);
  t.after(() => Volume.destroy(volume.volumeId).catch(() => {}));
  assert.match(volume.volumeId, UUID_RE);
  assert.equal(volume.name, name);
  assert.ok(volume.token.length >= 32, 'a volume token');

  const info = await Volume.getInfo(volume.volumeId);
  assert.equal(info.volumeId, volume.volumeId);
  assert.equal(info.name, name);
  assert.equal(info.token, volume.token);

  const listed = await Volume.list();
  assert.ok(listed.some((v) => v.volumeId === volume.volumeId && v.name === name));

  const connected = await Volume.connect(volume.volumeId);
  await connected.writeFile('/hello.txt', 'via connect');
  assert.equal(await volume.readFile('/hello.txt'), 'via connect');

  await expectReject(assert, Volume.create(name), VolumeError, 'same name');
  await expectReject(assert, Volume.create('bad name!'), VolumeError, 'bad name');

  assert.equal(await Volume.destroy(volume.volumeId), true);
  assert.equal(await Volume.destroy(volume.volumeId), false);
  await expectReject(assert, Volume.getInfo(volume.volumeId),
      VolumeNotFoundError, 'getInfo after destroy');
  assert.ok(!(await Volume.list()).some((v) => v.volumeId === volume.volumeId));
  // The name is free again.
  const again = await Volume.create(name);
  await Volume.destroy(again.volumeId);
});

test('files: write, read in every format, overwrite only with force', opts,
    async (t) => {
      const volume = await createVolume(t, 'files');
      const stat = await volume.writeFile('/a.txt', 'first');
      assert.equal(stat.type, VolumeFileType.FILE);
      assert.equal(stat.name, 'a.txt');
      assert.equal(stat.path, '/a.txt');
      assert.equal(stat.size, 5);
      assert.ok(stat.mtime instanceof Date && !Number.isNaN(stat.mtime.getTime()));

      assert.equal(await volume.readFile('/a.txt'), 'first');
      const bytes = await volume.readFile('/a.txt', { format: 'bytes' });
      assert.deepEqual(Buffer.from(bytes), Buffer.from('first'));
      const blob = await volume.readFile('/a.txt', { format: 'blob' });
      assert.equal(await blob.text(), 'first');

      await expectReject(assert, volume.writeFile('/a.txt', 'second'),
          VolumeError, 'overwrite without force');
      assert.equal(await volume.readFile('/a.txt'), 'first');
      await volume.writeFile('/a.txt', 'second', { force: true });
      assert.equal(await volume.readFile('/a.txt'), 'second');

      await expectReject(assert, volume.writeFile('/no/such/dir/f', 'x'),
          VolumePathNotFoundError, 'missing parent without force');
      await volume.writeFile('/made/by/force/f.txt', 'x', { force: true });
      assert.equal(await volume.readFile('/made/by/force/f.txt'), 'x');

      await expectReject(assert, volume.readFile('/missing'),
          VolumePathNotFoundError, 'read a missing file');
    });

test('a 24 MiB file streams both ways', opts, async (t) => {
  const volume = await createVolume(t, 'big');
  const data = randomBytes(24 * 1024 * 1024);
  const chunks = [];
  for (let i = 0; i < data.length; i += 1 << 20) {
    chunks.push(data.subarray(i, i + (1 << 20)));
  }
  const upload = new ReadableStream({
    pull(controller) {
      const next = chunks.shift();
      if (next) controller.enqueue(next);
      else controller.close();
    },
  });
  const stat = await volume.writeFile('/big.bin', upload);
  assert.equal(stat.size, data.length);
  const stream = await volume.readFile('/big.bin', { format: 'stream' });
  assert.ok((await readAll(stream)).equals(data));
});

test('directories, listing depth, metadata, exists and remove', opts,
    async (t) => {
      const volume = await createVolume(t, 'dirs');
      const dir = await volume.makeDir('/d', { mode: 0o750, uid: 1000, gid: 1000 });
      assert.equal(dir.type, VolumeFileType.DIRECTORY);
      assert.equal(dir.mode & 0o777, 0o750);
      assert.equal(dir.uid, 1000);
      assert.equal(dir.gid, 1000);
      await expectReject(assert, volume.makeDir('/d'), VolumeError,
          'makeDir on an existing directory');
      await volume.makeDir('/d', { force: true });
      await volume.makeDir('/d/e/f', { force: true });
      await volume.writeFile('/d/e/f/g.txt', 'deep');

      const top = await volume.list('/d');
      assert.deepEqual(top.map((e) => e.path), ['/d/e']);
      const deep = await volume.list('/d', { depth: 3 });
      assert.deepEqual(deep.map((e) => e.path).sort(),
          ['/d/e', '/d/e/f', '/d/e/f/g.txt']);
      await expectReject(assert, volume.list('/nope'), VolumePathNotFoundError,
          'list a missing directory');

      const file = await volume.writeFile('/m.txt', 'x', { mode: 0o600 });
      assert.equal(file.mode & 0o777, 0o600);
      assert.equal(file.uid, 9090, 'E2B default owner');
      const changed = await volume.updateMetadata('/m.txt', { mode: 0o644, uid: 1000 });
      assert.equal(changed.mode & 0o777, 0o644);
      assert.equal(changed.uid, 1000);
      assert.equal(changed.gid, 9090, 'gid unchanged');
      await expectReject(assert, volume.updateMetadata('/nope', { mode: 0o644 }),
          VolumePathNotFoundError, 'metadata of a missing path');

      assert.equal(await volume.exists('/d/e/f/g.txt'), true);
      assert.equal(await volume.exists('/d/e/f/none'), false);
      await volume.remove('/d');
      assert.equal(await volume.exists('/d'), false);
      await expectReject(assert, volume.remove('/d'), VolumePathNotFoundError,
          'remove twice');
      await expectReject(assert, volume.remove('/'), VolumeError, 'remove root');
    });

test('paths stay inside the volume, and the token is the volume\'s own',
    opts, async (t) => {
      const volume = await createVolume(t, 'paths');
      const other = await createVolume(t, 'other');
      await volume.writeFile('/../../../escape.txt', 'in', { force: true });
      assert.deepEqual((await volume.list('/')).map((e) => e.name), ['escape.txt']);
      assert.equal(await volume.readFile('/x/../escape.txt'), 'in');

      // Another volume's token opens nothing here.
      const forged = new Volume(volume.volumeId, volume.name, other.token);
      await expectReject(assert, forged.readFile('/escape.txt'),
          AuthenticationError, 'another volume\'s token');
      const none = new Volume(volume.volumeId, volume.name, 'not-a-token');
      await expectReject(assert, none.list('/'), AuthenticationError,
          'a wrong token');
    });

test('a volume mounted into two sandboxes: both see the API\'s files and ' +
    'each other\'s, and the data outlives them', opts, async (t) => {
  const volume = await createVolume(t, 'mount');
  await volume.writeFile('/from-api.txt', 'written through the API');

  const first = await createSandbox(t, { volumeMounts: { '/mnt/data': volume } });
  const info = await first.getInfo();
  assert.deepEqual(info.volumeMounts, [{ name: volume.name, path: '/mnt/data' }]);
  const read = await first.commands.run('cat /mnt/data/from-api.txt');
  assert.equal(read.stdout, 'written through the API');
  await first.commands.run('echo -n from-sandbox > /mnt/data/from-sandbox.txt');
  // envd's file API sees the mount too.
  assert.equal(await first.files.read('/mnt/data/from-sandbox.txt'),
      'from-sandbox');
  assert.equal(await volume.readFile('/from-sandbox.txt'), 'from-sandbox');

  // Mounted by name, at another path.
  const second = await createSandbox(t, { volumeMounts: { '/data': volume.name } });
  const seen = await second.commands.run('cat /data/from-sandbox.txt');
  assert.equal(seen.stdout, 'from-sandbox');
  await first.kill();
  await second.kill();
  assert.equal(await volume.readFile('/from-sandbox.txt'), 'from-sandbox');
});

test('bad mounts are refused with E2B\'s reasons', opts, async (t) => {
  const volume = await createVolume(t, 'badmount');
  const err = await expectReject(assert, Sandbox.create({
    volumeMounts: {
      '/mnt/a': uniqueTag('no-such-volume'),
      'relative': volume,
      '/mnt/../b': volume,
    },
  }), SandboxError, 'bad mounts');
  assert.match(err.message, /invalid mounts/);
  assert.match(err.message, /volume mount #0: volume '.*' not found/);
  assert.match(err.message, /volume mount #1: path must be absolute/);
  assert.match(err.message, /volume mount #2: path must not contain/);
});
