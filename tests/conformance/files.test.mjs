// envd /files and filesystem.Filesystem conformance through sandbox.files,
// plus the signed upload/download URLs used with plain fetch.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';

import {
  AuthenticationError,
  FileNotFoundError,
  InvalidArgumentError,
  Sandbox,
  SandboxError,
} from 'e2b';

import {
  expectReject,
  killQuietly,
  readAll,
  requireServerEnv,
  TEST_TIMEOUT_MS,
  uniqueTag,
  Waiter,
} from './helpers.mjs';

requireServerEnv();

const opts = { timeout: TEST_TIMEOUT_MS };
let sbx;

before(async () => {
  sbx = await Sandbox.create({
    metadata: { suite: uniqueTag('files') },
    timeoutMs: 600_000,
  });
});

after(() => killQuietly(sbx));

// Every test works in its own directory so tests never see each other.
async function freshDir(label) {
  const dir = `/home/user/${uniqueTag(label)}`;
  assert.equal(await sbx.files.makeDir(dir), true);
  return dir;
}

function streamOf(chunks) {
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(c);
      controller.close();
    },
  });
}

test('write a string and read it back as text, bytes, blob and stream',
    opts, async () => {
      const dir = await freshDir('rw');
      const path = `${dir}/hello.txt`;
      const text = 'hello, wörld ✓\nsecond line\n';
      const info = await sbx.files.write(path, text);
      assert.equal(info.path, path);
      assert.equal(info.name, 'hello.txt');
      assert.equal(info.type, 'file');

      assert.equal(await sbx.files.read(path), text);
      assert.equal(await sbx.files.read(path, { format: 'text' }), text);
      const bytes = await sbx.files.read(path, { format: 'bytes' });
      assert.ok(bytes instanceof Uint8Array);
      assert.deepEqual(Buffer.from(bytes), Buffer.from(text, 'utf8'));
      const blob = await sbx.files.read(path, { format: 'blob' });
      assert.ok(blob instanceof Blob);
      assert.equal(await blob.text(), text);
      const stream = await sbx.files.read(path, { format: 'stream' });
      assert.equal((await readAll(stream)).toString('utf8'), text);

      // Overwrite truncates.
      await sbx.files.write(path, 'short');
      assert.equal(await sbx.files.read(path), 'short');

      // An empty file reads as empty in every format.
      const empty = `${dir}/empty`;
      await sbx.files.write(empty, '');
      assert.equal(await sbx.files.read(empty), '');
      assert.equal((await sbx.files.read(empty, { format: 'bytes' })).length, 0);
    });

test('relative paths resolve against the user home; parents are created',
    opts, async () => {
      const rel = `${uniqueTag('rel')}/nested/deeper/file.txt`;
      const info = await sbx.files.write(rel, 'relative');
      assert.equal(info.path, `/home/user/${rel}`);
      assert.equal(await sbx.files.read(`/home/user/${rel}`), 'relative');
      assert.equal(await sbx.files.read(rel), 'relative');
      const st = await sbx.files.getInfo(`/home/user/${rel.split('/')[0]}`);
      assert.equal(st.type, 'dir');
      assert.equal(st.owner, 'user');
    });

test('write binary data as ArrayBuffer, Blob and ReadableStream', opts,
    async () => {
      const dir = await freshDir('bin');
      const all = new Uint8Array(256).map((_, i) => i);

      await sbx.files.write(`${dir}/ab.bin`, all.buffer);
      assert.deepEqual(
          Buffer.from(await sbx.files.read(`${dir}/ab.bin`, { format: 'bytes' })),
          Buffer.from(all));

      await sbx.files.write(`${dir}/blob.bin`, new Blob([all, all]));
      const blob = await sbx.files.read(`${dir}/blob.bin`, { format: 'blob' });
      assert.equal(blob.size, 512);
      assert.deepEqual(Buffer.from(await blob.arrayBuffer()),
          Buffer.concat([Buffer.from(all), Buffer.from(all)]));

      // A stream upload goes out as application/octet-stream (envd >= 0.5.7).
      const parts = [randomBytes(70_000), randomBytes(1), randomBytes(300_000)];
      await sbx.files.write(`${dir}/stream.bin`, streamOf(parts));
      assert.deepEqual(
          Buffer.from(await sbx.files.read(`${dir}/stream.bin`,
              { format: 'bytes' })),
          Buffer.concat(parts));
    });

test('octet-stream and gzip uploads; gzip and streamed downloads', opts,
    async () => {
      const dir = await freshDir('gz');
      const payload = randomBytes(2 * 1024 * 1024 + 17);

      await sbx.files.write(`${dir}/octet.bin`, payload,
          { useOctetStream: true });
      await sbx.files.write(`${dir}/gzip.bin`, payload, { gzip: true });
      for (const name of ['octet.bin', 'gzip.bin']) {
        const back = await sbx.files.read(`${dir}/${name}`, { format: 'bytes' });
        assert.equal(back.length, payload.length, name);
        assert.ok(Buffer.from(back).equals(payload), `${name} content differs`);
      }

      const viaGzip =
          await sbx.files.read(`${dir}/gzip.bin`, { format: 'bytes', gzip: true });
      assert.ok(Buffer.from(viaGzip).equals(payload), 'gzip download differs');

      const stream =
          await sbx.files.read(`${dir}/octet.bin`, { format: 'stream' });
      assert.ok((await readAll(stream)).equals(payload), 'stream differs');
    });

test('multi-file write uploads every entry in one call', opts, async () => {
  const dir = await freshDir('multi');
  const infos = await sbx.files.write([
    { path: `${dir}/one.txt`, data: 'first file' },
    { path: `${dir}/sub/two.txt`, data: new Blob(['second file']) },
    { path: `${dir}/three.bin`, data: new Uint8Array([1, 2, 3]).buffer },
  ]);
  assert.ok(Array.isArray(infos));
  assert.deepEqual(infos.map((i) => i.path).sort(),
      [`${dir}/one.txt`, `${dir}/sub/two.txt`, `${dir}/three.bin`].sort());
  assert.ok(infos.every((i) => i.type === 'file'));
  assert.equal(await sbx.files.read(`${dir}/one.txt`), 'first file');
  assert.equal(await sbx.files.read(`${dir}/sub/two.txt`), 'second file');

  const viaWriteFiles = await sbx.files.writeFiles([
    { path: `${dir}/four.txt`, data: 'four' },
  ]);
  assert.deepEqual(viaWriteFiles.map((i) => i.path), [`${dir}/four.txt`]);
  assert.deepEqual(await sbx.files.write([]), []);
});

test('upload metadata is stored and reported back', opts, async () => {
  const dir = await freshDir('meta');
  const path = `${dir}/tagged.txt`;
  const info = await sbx.files.write(path, 'with metadata',
      { metadata: { Owner: 'conformance', 'build-id': '42' } });
  // Keys are lower-cased by envd.
  assert.deepEqual(info.metadata, { owner: 'conformance', 'build-id': '42' });
  const st = await sbx.files.getInfo(path);
  assert.deepEqual(st.metadata, { owner: 'conformance', 'build-id': '42' });

  // A plain re-upload clears it.
  await sbx.files.write(path, 'without metadata');
  assert.equal((await sbx.files.getInfo(path)).metadata, undefined);
});

// The metadata is the file's user.e2b.<key> extended attributes: a process
// in the sandbox sees the uploaded ones and its own show up in getInfo,
// list and rename; non-UTF-8 values and other user.* names do not.
test('metadata is user.e2b.* xattrs, also when set inside', opts, async () => {
  const dir = await freshDir('xattr');
  const path = `${dir}/tagged.txt`;
  await sbx.files.write(path, 'x', { metadata: { Stage: 'uploaded' } });
  const script = [
    'import os, sys',
    'p = sys.argv[1]',
    'print(sorted(n for n in os.listxattr(p) if n.startswith("user.")))',
    'os.setxattr(p, "user.e2b.inside", b"set with setxattr")',
    'os.setxattr(p, "user.e2b.binary", b"\\xff")',
    'os.setxattr(p, "user.other", b"not metadata")',
  ].join('; ');
  const run = await sbx.commands.run(`python3 -c '${script}' ${path}`);
  assert.equal(run.stdout, "['user.e2b.stage']\n");
  const expected = { stage: 'uploaded', inside: 'set with setxattr' };
  assert.deepEqual((await sbx.files.getInfo(path)).metadata, expected);
  const listed = await sbx.files.list(dir);
  assert.deepEqual(listed.map((e) => e.metadata), [expected]);
  const moved = await sbx.files.rename(path, `${dir}/moved.txt`);
  assert.deepEqual(moved.metadata, expected);
});

test('read errors: missing file and directory', opts, async () => {
  const dir = await freshDir('readerr');
  await expectReject(assert, sbx.files.read(`${dir}/missing.txt`),
      FileNotFoundError, 'read missing file');
  await expectReject(assert, sbx.files.read(`${dir}/missing.txt`,
      { format: 'stream' }), FileNotFoundError, 'stream missing file');
  await expectReject(assert, sbx.files.read(dir), InvalidArgumentError,
      'read a directory');
  await expectReject(assert, sbx.files.write(dir, 'x'), InvalidArgumentError,
      'write onto a directory');
  await sbx.files.write(`${dir}/exists.txt`, 'x');
  await expectReject(assert,
      sbx.files.read(`${dir}/exists.txt`, { user: 'no-such-user-xyz' }),
      AuthenticationError, 'read as an unknown user');
  await expectReject(assert,
      sbx.files.list(dir, { user: 'no-such-user-xyz' }),
      AuthenticationError, 'list as an unknown user');
});

test('list with depth, exists and getInfo', opts, async () => {
  const dir = await freshDir('tree');
  await sbx.files.write(`${dir}/a/f1.txt`, '12345');
  await sbx.files.write(`${dir}/a/b/f2.txt`, 'x');
  await sbx.files.write(`${dir}/top.txt`, 'top');

  const depth1 = await sbx.files.list(dir);
  assert.deepEqual(depth1.map((e) => e.name).sort(), ['a', 'top.txt']);
  const a = depth1.find((e) => e.name === 'a');
  assert.equal(a.type, 'dir');
  assert.equal(a.path, `${dir}/a`);

  const depth3 = await sbx.files.list(dir, { depth: 3 });
  assert.deepEqual(depth3.map((e) => e.path).sort(), [
    `${dir}/a`, `${dir}/a/b`, `${dir}/a/b/f2.txt`, `${dir}/a/f1.txt`,
    `${dir}/top.txt`,
  ]);
  const f1 = depth3.find((e) => e.name === 'f1.txt');
  assert.equal(f1.type, 'file');
  assert.equal(f1.size, 5);

  await expectReject(assert, sbx.files.list(dir, { depth: 0 }),
      InvalidArgumentError, 'list depth 0 (client-side check)');
  await expectReject(assert, sbx.files.list(`${dir}/nope`), FileNotFoundError,
      'list missing dir');
  await expectReject(assert, sbx.files.list(`${dir}/top.txt`),
      InvalidArgumentError, 'list a file');

  assert.equal(await sbx.files.exists(`${dir}/a/f1.txt`), true);
  assert.equal(await sbx.files.exists(`${dir}/a/b`), true);
  assert.equal(await sbx.files.exists(`${dir}/nope`), false);

  const st = await sbx.files.getInfo(`${dir}/a/f1.txt`);
  assert.equal(st.name, 'f1.txt');
  assert.equal(st.type, 'file');
  assert.equal(st.path, `${dir}/a/f1.txt`);
  assert.equal(st.size, 5);
  assert.equal(st.owner, 'user');
  assert.equal(st.group, 'user');
  assert.match(st.permissions, /^-[r-][w-][xsS-][r-][w-][xsS-][r-][w-][xtT-]$/);
  assert.equal(typeof st.mode, 'number');
  assert.ok(st.modifiedTime instanceof Date, 'modifiedTime missing');
  const skew = Math.abs(Date.now() - st.modifiedTime.getTime());
  assert.ok(skew < 3_600_000, `modifiedTime ${st.modifiedTime.toISOString()}`);

  const dirInfo = await sbx.files.getInfo(`${dir}/a`);
  assert.equal(dirInfo.type, 'dir');
  assert.match(dirInfo.permissions, /^d/);

  await expectReject(assert, sbx.files.getInfo(`${dir}/nope`),
      FileNotFoundError, 'getInfo missing');

  // Symlinks report their target.
  await sbx.commands.run(`ln -s ${dir}/top.txt ${dir}/link`);
  const link = await sbx.files.getInfo(`${dir}/link`);
  assert.equal(link.symlinkTarget, `${dir}/top.txt`);
});

test('makeDir, rename and remove', opts, async () => {
  const dir = await freshDir('ops');
  assert.equal(await sbx.files.makeDir(`${dir}/x/y/z`), true);
  assert.equal(await sbx.files.makeDir(`${dir}/x/y/z`), false);
  assert.equal((await sbx.files.getInfo(`${dir}/x/y`)).type, 'dir');
  await sbx.files.write(`${dir}/file.txt`, 'f');
  await assert.rejects(sbx.files.makeDir(`${dir}/file.txt`), SandboxError,
      'makeDir over an existing file must fail');

  const moved = await sbx.files.rename(`${dir}/file.txt`, `${dir}/x/moved.txt`);
  assert.equal(moved.path, `${dir}/x/moved.txt`);
  assert.equal(moved.name, 'moved.txt');
  assert.equal(moved.type, 'file');
  assert.equal(await sbx.files.exists(`${dir}/file.txt`), false);
  assert.equal(await sbx.files.read(`${dir}/x/moved.txt`), 'f');
  const movedDir = await sbx.files.rename(`${dir}/x`, `${dir}/renamed`);
  assert.equal(movedDir.type, 'dir');
  assert.equal(await sbx.files.read(`${dir}/renamed/moved.txt`), 'f');
  await expectReject(assert,
      sbx.files.rename(`${dir}/missing`, `${dir}/other`), FileNotFoundError,
      'rename a missing path');

  await sbx.files.remove(`${dir}/renamed/moved.txt`);
  assert.equal(await sbx.files.exists(`${dir}/renamed/moved.txt`), false);
  await sbx.files.remove(`${dir}/renamed`);
  assert.equal(await sbx.files.exists(`${dir}/renamed`), false);
  // Removing something that is not there succeeds (recursive remove).
  await sbx.files.remove(`${dir}/never-existed`);
});

test('user option: root-owned files and paths relative to /root', opts,
    async () => {
      const name = `${uniqueTag('root')}.txt`;
      const info = await sbx.files.write(name, 'as root', { user: 'root' });
      assert.equal(info.path, `/root/${name}`);
      const st = await sbx.files.getInfo(`/root/${name}`, { user: 'root' });
      assert.equal(st.owner, 'root');
      assert.equal(await sbx.files.read(name, { user: 'root' }), 'as root');
      const whoami = await sbx.commands.run(`stat -c %U /root/${name}`,
          { user: 'root' });
      assert.equal(whoami.stdout, 'root\n');

      const userFile = await sbx.files.write(`${uniqueTag('u')}.txt`, 'u');
      const owner = await sbx.commands.run(`stat -c %U:%G ${userFile.path}`);
      assert.equal(owner.stdout, 'user:user\n');
    });

test('paths cannot escape the sandbox', opts, async () => {
  // Whatever e2b-local does with "..", the result must stay inside the
  // sandbox: reading /etc/hostname through a traversal gives the sandbox's
  // own file, identical to what a command in the sandbox sees.
  const traversal = '/home/user/../../../../../../etc/hostname';
  const viaFiles = await sbx.files.read(traversal);
  const viaCmd = await sbx.commands.run('cat /etc/hostname');
  assert.equal(viaFiles, viaCmd.stdout);

  // A symlink planted inside the sandbox pointing at / is resolved inside
  // the sandbox root too.
  const dir = await freshDir('escape');
  await sbx.commands.run(`ln -s / ${dir}/root-link`);
  const viaLink = await sbx.files.read(`${dir}/root-link/etc/hostname`);
  assert.equal(viaLink, viaCmd.stdout);
});

test('the sandbox hostname is its ID', opts, async () => {
  const hostname = await sbx.commands.run('hostname');
  assert.equal(hostname.stdout.trim(), sbx.sandboxId);
});

test('watchDir reports create, write and remove events', opts, async () => {
  const dir = await freshDir('watch');
  const waiter = new Waiter();
  const events = [];
  const handle = await sbx.files.watchDir(dir, (ev) => {
    events.push(ev);
    waiter.notify();
  });
  try {
    await sbx.files.write(`${dir}/w.txt`, 'one');
    await waiter.until(
        () => events.some((e) => e.name === 'w.txt' && e.type === 'create'),
        'create event for w.txt');
    await waiter.until(
        () => events.some((e) => e.name === 'w.txt' && e.type === 'write'),
        'write event for w.txt');
    await sbx.files.remove(`${dir}/w.txt`);
    await waiter.until(
        () => events.some((e) => e.name === 'w.txt' && e.type === 'remove'),
        'remove event for w.txt');
    // Non-recursive: a file inside a subdirectory is not reported. The
    // sentinel written afterwards bounds the wait without a sleep.
    await sbx.files.makeDir(`${dir}/sub`);
    await sbx.files.write(`${dir}/sub/inner.txt`, 'hidden');
    await sbx.files.write(`${dir}/sentinel.txt`, 's');
    await waiter.until(
        () => events.some((e) => e.name === 'sentinel.txt'),
        'event for sentinel.txt');
    assert.ok(events.some((e) => e.name === 'sub' && e.type === 'create'),
        'create event for sub');
    assert.ok(!events.some((e) => e.name.includes('inner.txt')),
        `non-recursive watch reported ${JSON.stringify(events)}`);
  } finally {
    await handle.stop();
  }
  for (const ev of events) {
    assert.ok(!ev.name.startsWith('/'), `event name ${ev.name} is absolute`);
  }
});

test('watchDir recursive with includeEntry; errors for missing dirs', opts,
    async () => {
      const dir = await freshDir('rwatch');
      await sbx.files.makeDir(`${dir}/deep/er`);
      const waiter = new Waiter();
      const events = [];
      const handle = await sbx.files.watchDir(dir, (ev) => {
        events.push(ev);
        waiter.notify();
      }, { recursive: true, includeEntry: true });
      try {
        await sbx.files.write(`${dir}/deep/er/n.txt`, 'nested');
        await waiter.until(() => events.some(
            (e) => e.name === 'deep/er/n.txt' && e.type === 'create'),
            'recursive create event deep/er/n.txt');
        const created = events.find(
            (e) => e.name === 'deep/er/n.txt' && e.type === 'create');
        assert.ok(created.entry, 'includeEntry: entry missing on create');
        assert.equal(created.entry.path, `${dir}/deep/er/n.txt`);
        assert.equal(created.entry.type, 'file');
      } finally {
        await handle.stop();
      }

      await expectReject(assert,
          sbx.files.watchDir(`${dir}/missing`, () => {}), FileNotFoundError,
          'watch a missing directory');
    });

test('signed uploadUrl/downloadUrl work with fetch (routing header)', opts,
    async () => {
      const dir = await freshDir('signed');
      const path = `${dir}/signed.txt`;
      const headers = { 'E2b-Sandbox-Id': sbx.sandboxId };

      const uploadUrl = await sbx.uploadUrl(path);
      const u = new URL(uploadUrl);
      assert.equal(u.searchParams.get('path'), path);
      assert.match(u.searchParams.get('signature'), /^v1_/);
      const form = new FormData();
      form.append('file', new Blob(['signed upload']), 'signed.txt');
      const up = await fetch(uploadUrl, { method: 'POST', body: form, headers });
      assert.equal(up.status, 200, await up.clone().text());
      const written = await up.json();
      assert.ok(Array.isArray(written) && written.length === 1);
      assert.equal(written[0].path, path);

      const downloadUrl = await sbx.downloadUrl(path);
      const down = await fetch(downloadUrl, { headers });
      assert.equal(down.status, 200);
      assert.equal(await down.text(), 'signed upload');

      // With an expiration in the future it works, in the past it does not.
      const later =
          await sbx.downloadUrl(path, { useSignatureExpiration: 120 });
      assert.ok(new URL(later).searchParams.get('signature_expiration'));
      assert.equal((await fetch(later, { headers })).status, 200);
      const expired =
          await sbx.downloadUrl(path, { useSignatureExpiration: -60 });
      assert.equal((await fetch(expired, { headers })).status, 401);

      // A tampered signature or a signature for another operation is refused.
      const bad = new URL(downloadUrl);
      bad.searchParams.set('signature', 'v1_AAAA');
      assert.equal((await fetch(bad, { headers })).status, 401);
      const readSigForWrite = new URL(downloadUrl);
      const f2 = new FormData();
      f2.append('file', new Blob(['x']), 'signed.txt');
      assert.equal((await fetch(readSigForWrite,
          { method: 'POST', body: f2, headers })).status, 401);
      // No signature, no token: refused.
      const bare = new URL(downloadUrl);
      bare.searchParams.delete('signature');
      assert.equal((await fetch(bare, { headers })).status, 401);
      assert.equal(await sbx.files.read(path), 'signed upload');
    });

test('signed URLs work verbatim, as handed to a third party', opts,
    async () => {
      // With E2B_SANDBOX_URL set, the SDK builds signed URLs on that base
      // with no sandbox ID in them, and a third party (browser, curl) adds
      // no routing header. The server has to find the sandbox from the
      // signature alone.
      const dir = await freshDir('verbatim');
      const path = `${dir}/v.txt`;
      const form = new FormData();
      form.append('file', new Blob(['verbatim upload']), 'v.txt');
      const up = await fetch(await sbx.uploadUrl(path),
          { method: 'POST', body: form });
      assert.equal(up.status, 200, await up.clone().text());
      const down = await fetch(await sbx.downloadUrl(path));
      assert.equal(down.status, 200, await down.clone().text());
      assert.equal(await down.text(), 'verbatim upload');
    });
