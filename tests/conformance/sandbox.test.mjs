// Control-plane conformance: sandbox lifecycle through the official SDK's
// static and instance APIs (create, info, list, timeout, pause/resume,
// metrics, snapshots, kill).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  Sandbox,
  SandboxError,
  SandboxNotFoundError,
  TimeoutError,
} from 'e2b';

import {
  collectPages,
  createSandbox,
  expectReject,
  killQuietly,
  pollUntil,
  requireServerEnv,
  TEST_TIMEOUT_MS,
  uniqueTag,
  unknownSandboxId,
} from './helpers.mjs';

requireServerEnv();

const SANDBOX_ID_RE = /^i[a-z0-9]{20}$/;
const opts = { timeout: TEST_TIMEOUT_MS };

function secondsBetween(a, b) {
  return (b.getTime() - a.getTime()) / 1000;
}

test('create with envs, metadata and timeoutMs; getInfo reflects them', opts,
    async (t) => {
      const tag = uniqueTag();
      const sbx = await createSandbox(t, {
        envs: { CONF_SANDBOX_VAR: 'from-create', CONF_SPACES: 'a b  c' },
        metadata: { suite: tag, purpose: 'create' },
        timeoutMs: 120_000,
      });
      assert.match(sbx.sandboxId, SANDBOX_ID_RE);

      const info = await sbx.getInfo();
      assert.equal(info.sandboxId, sbx.sandboxId);
      assert.equal(typeof info.templateId, 'string');
      assert.ok(info.templateId.length > 0, 'templateId is empty');
      assert.deepEqual(info.metadata, { suite: tag, purpose: 'create' });
      assert.equal(info.state, 'running');
      assert.equal(info.envdVersion, '0.6.4');
      assert.ok(!Number.isNaN(info.startedAt.getTime()), 'startedAt invalid');
      assert.ok(!Number.isNaN(info.endAt.getTime()), 'endAt invalid');
      const lifetime = secondsBetween(info.startedAt, info.endAt);
      assert.ok(lifetime >= 115 && lifetime <= 125,
          `endAt - startedAt = ${lifetime}s, want ~120s`);
      assert.ok(Number.isInteger(info.cpuCount) && info.cpuCount > 0,
          `cpuCount ${info.cpuCount}`);
      assert.ok(Number.isInteger(info.memoryMB) && info.memoryMB > 0,
          `memoryMB ${info.memoryMB}`);

      // The static form hits the same endpoint.
      const same = await Sandbox.getInfo(sbx.sandboxId);
      assert.equal(same.sandboxId, sbx.sandboxId);
      assert.deepEqual(same.metadata, info.metadata);

      // Sandbox-level env vars reach every command.
      const result = await sbx.commands.run(
          'printf "%s|%s" "$CONF_SANDBOX_VAR" "$CONF_SPACES"');
      assert.equal(result.stdout, 'from-create|a b  c');
      assert.equal(await sbx.isRunning(), true);
    });

test('create with an unknown template fails with a 404 SandboxError', opts,
    async () => {
      requireServerEnv();
      const err = await expectReject(
          assert, Sandbox.create(uniqueTag('no-such-template')), SandboxError,
          'create from unknown template');
      assert.equal(err.statusCode, 404, `message: ${err.message}`);
    });

test('getInfo, setTimeout, getMetrics and connect of an unknown sandbox ' +
         'raise SandboxNotFoundError; kill returns false',
    opts, async () => {
      const id = unknownSandboxId();
      await expectReject(assert, Sandbox.getInfo(id), SandboxNotFoundError,
          'getInfo(unknown)');
      await expectReject(assert, Sandbox.setTimeout(id, 60_000),
          SandboxNotFoundError, 'setTimeout(unknown)');
      await expectReject(assert, Sandbox.getMetrics(id), SandboxNotFoundError,
          'getMetrics(unknown)');
      await expectReject(assert, Sandbox.connect(id), SandboxNotFoundError,
          'connect(unknown)');
      await expectReject(assert, Sandbox.pause(id), SandboxNotFoundError,
          'pause(unknown)');
      assert.equal(await Sandbox.kill(id), false);
    });

test('kill returns true once, then false; the sandbox is gone everywhere',
    opts, async (t) => {
      const tag = uniqueTag();
      const sbx = await createSandbox(t, { metadata: { suite: tag } });
      assert.equal(await sbx.kill(), true);
      assert.equal(await sbx.kill(), false);
      assert.equal(await Sandbox.kill(sbx.sandboxId), false);
      await expectReject(assert, Sandbox.getInfo(sbx.sandboxId),
          SandboxNotFoundError, 'getInfo after kill');
      const { items } =
          await collectPages(Sandbox.list({ query: { metadata: { suite: tag } } }));
      assert.deepEqual(items.map((s) => s.sandboxId), []);
      // envd answers 502 for a sandbox it no longer knows; the SDK maps that
      // to "not running".
      assert.equal(await sbx.isRunning(), false);
      await assert.rejects(sbx.commands.run('true'),
          'a command on a killed sandbox must fail');
    });

test('list filters by metadata and state, and pages with limit', opts,
    async (t) => {
      const tag = uniqueTag();
      // Values with reserved characters exercise the double encoding of the
      // metadata query parameter.
      const tricky = 'a b&c=d/e%f+g';
      const first = await createSandbox(
          t, { metadata: { suite: tag, idx: '0', tricky } });
      const second =
          await createSandbox(t, { metadata: { suite: tag, idx: '1' } });
      const third =
          await createSandbox(t, { metadata: { suite: tag, idx: '2' } });
      const ids = [first, second, third].map((s) => s.sandboxId).sort();

      const all = await collectPages(
          Sandbox.list({ query: { metadata: { suite: tag } } }));
      assert.deepEqual(all.items.map((s) => s.sandboxId).sort(), ids);
      const listed = all.items.find((s) => s.sandboxId === first.sandboxId);
      assert.deepEqual(listed.metadata, { suite: tag, idx: '0', tricky });
      assert.equal(listed.state, 'running');
      assert.equal(listed.envdVersion, '0.6.4');
      assert.ok(listed.startedAt instanceof Date &&
          !Number.isNaN(listed.startedAt.getTime()));
      assert.ok(!Number.isNaN(listed.endAt.getTime()));
      assert.ok(listed.cpuCount > 0 && listed.memoryMB > 0);

      const one = await collectPages(
          Sandbox.list({ query: { metadata: { suite: tag, idx: '1' } } }));
      assert.deepEqual(one.items.map((s) => s.sandboxId), [second.sandboxId]);

      const byTricky = await collectPages(
          Sandbox.list({ query: { metadata: { suite: tag, tricky } } }));
      assert.deepEqual(
          byTricky.items.map((s) => s.sandboxId), [first.sandboxId]);

      const none = await collectPages(Sandbox.list(
          { query: { metadata: { suite: tag, idx: 'no-such-value' } } }));
      assert.deepEqual(none.items, []);

      // Paging: one sandbox per page, every sandbox exactly once.
      const paged = await collectPages(
          Sandbox.list({ query: { metadata: { suite: tag } }, limit: 1 }));
      assert.ok(paged.pageSizes.length >= 3,
          `expected >= 3 pages, got ${JSON.stringify(paged.pageSizes)}`);
      assert.ok(paged.pageSizes.every((n) => n <= 1),
          `a page exceeded limit 1: ${JSON.stringify(paged.pageSizes)}`);
      assert.deepEqual(paged.items.map((s) => s.sandboxId).sort(), ids);

      // A paginator can be resumed from its nextToken.
      const firstPage = Sandbox.list(
          { query: { metadata: { suite: tag } }, limit: 2 });
      const page1 = await firstPage.nextItems();
      assert.equal(page1.length, 2);
      assert.equal(firstPage.hasNext, true);
      const resumed = Sandbox.list({
        query: { metadata: { suite: tag } },
        limit: 2,
        nextToken: firstPage.nextToken,
      });
      const rest = await collectPages(resumed);
      assert.deepEqual(
          [...page1, ...rest.items].map((s) => s.sandboxId).sort(), ids);

      // Ordering by start time, across the whole result set.
      for (const order of ['asc', 'desc']) {
        const { items } = await collectPages(
            Sandbox.list({ query: { metadata: { suite: tag } }, order }));
        const times = items.map((s) => s.startedAt.getTime());
        for (let i = 1; i < times.length; i++) {
          const ok = order === 'asc' ? times[i - 1] <= times[i]
                                     : times[i - 1] >= times[i];
          assert.ok(ok, `order=${order} broken: ${JSON.stringify(times)}`);
        }
      }

      // Template and start-time filters.
      const byTemplate = await collectPages(Sandbox.list({
        query: { metadata: { suite: tag }, template: listed.templateId },
      }));
      assert.deepEqual(byTemplate.items.map((s) => s.sandboxId).sort(), ids);
      const startedRecently = await collectPages(Sandbox.list({
        query: {
          metadata: { suite: tag },
          startedAfter: new Date(Date.now() - 3_600_000),
        },
      }));
      assert.deepEqual(
          startedRecently.items.map((s) => s.sandboxId).sort(), ids);
      const startedLater = await collectPages(Sandbox.list({
        query: {
          metadata: { suite: tag },
          startedAfter: new Date(Date.now() + 3_600_000),
        },
      }));
      assert.deepEqual(startedLater.items, []);

      // State filter: pause one and split the set.
      assert.equal(await second.pause(), true);
      const paused = await collectPages(Sandbox.list(
          { query: { metadata: { suite: tag }, state: ['paused'] } }));
      assert.deepEqual(paused.items.map((s) => s.sandboxId), [second.sandboxId]);
      assert.equal(paused.items[0].state, 'paused');
      const running = await collectPages(Sandbox.list(
          { query: { metadata: { suite: tag }, state: ['running'] } }));
      assert.deepEqual(running.items.map((s) => s.sandboxId).sort(),
          [first.sandboxId, third.sandboxId].sort());
      const both = await collectPages(Sandbox.list(
          { query: { metadata: { suite: tag }, state: ['running', 'paused'] } }));
      assert.deepEqual(both.items.map((s) => s.sandboxId).sort(), ids);
    });

// E2B's API pages by key (start time, then ID) and its startedAfter is
// at-or-after, so a sandbox's own startedAt finds it and sandboxes created
// while a paginator walks the list do not disturb the pages.
test('list: startedAfter is inclusive and paging is stable under creates',
    opts, async (t) => {
      const tag = uniqueTag();
      const pause = () => new Promise((r) => setTimeout(r, 5));
      const first = await createSandbox(t, { metadata: { suite: tag } });
      await pause();
      const second = await createSandbox(t, { metadata: { suite: tag } });
      await pause();
      const third = await createSandbox(t, { metadata: { suite: tag } });
      const info = await second.getInfo();
      const since = await collectPages(Sandbox.list({
        query: { metadata: { suite: tag }, startedAfter: info.startedAt },
      }));
      assert.deepEqual(since.items.map((s) => s.sandboxId),
          [third.sandboxId, second.sandboxId]);

      const paginator =
          Sandbox.list({ query: { metadata: { suite: tag } }, limit: 1 });
      const seen = [];
      while (paginator.hasNext) {
        assert.ok(seen.length < 10, 'the paginator does not end');
        seen.push(...(await paginator.nextItems()).map((s) => s.sandboxId));
        await createSandbox(t, { metadata: { suite: tag } });
      }
      assert.deepEqual(seen,
          [third.sandboxId, second.sandboxId, first.sandboxId]);
    });

test('setTimeout moves endAt in both directions', opts, async (t) => {
  const sbx = await createSandbox(t, { timeoutMs: 60_000 });
  await sbx.setTimeout(300_000);
  let info = await sbx.getInfo();
  let left = secondsBetween(new Date(), info.endAt);
  assert.ok(left > 270 && left <= 305, `after setTimeout(300s) ${left}s left`);

  await Sandbox.setTimeout(sbx.sandboxId, 90_000);
  info = await sbx.getInfo();
  left = secondsBetween(new Date(), info.endAt);
  assert.ok(left > 60 && left <= 95, `after setTimeout(90s) ${left}s left`);
});

test('a sandbox is killed when its timeout expires', opts, async (t) => {
  const sbx = await createSandbox(t, { timeoutMs: 60_000 });
  // Shortening the timeout (rather than creating with a tiny one) keeps the
  // test independent of how long creation takes on a loaded machine.
  await sbx.setTimeout(1_000);
  await pollUntil(async () => {
    try {
      await Sandbox.getInfo(sbx.sandboxId);
      return false;
    } catch (err) {
      if (err instanceof SandboxNotFoundError) return true;
      throw err;
    }
  }, 'the expired sandbox to disappear', 30_000);
  assert.equal(await Sandbox.kill(sbx.sandboxId), false);
  assert.equal(await sbx.isRunning(), false);
});

// On E2B a killed or expired sandbox's VM is gone: requests in flight lose
// their connection (the SDK probes health, gets the edge's 502 and raises
// TimeoutError "killed or reached its end of life"), and later requests
// get that 502 (TimeoutError for files, SandboxNotFoundError for a new
// command).
for (const how of ['killed', 'timed out']) {
  test(`requests in flight when the sandbox is ${how} raise TimeoutError`,
      opts, async (t) => {
        const sbx = await createSandbox(t, { timeoutMs: 60_000 });
        const started = [];
        const running = sbx.commands.run('echo up; sleep 60', {
          onStdout: (d) => started.push(d),
          timeoutMs: 0,
        });
        // It rejects while the kill is awaited, before expectReject looks:
        // handled now, so the runner does not count an unhandled rejection.
        running.catch(() => {});
        const watching = await sbx.files.watchDir('/tmp', () => {});
        const watchEnded = new Promise((resolve) => {
          watching.onExit = resolve;
        });
        await pollUntil(async () => started.join('').includes('up'),
            'the command to start');
        if (how === 'killed') {
          assert.equal(await Sandbox.kill(sbx.sandboxId), true);
        } else {
          await sbx.setTimeout(1_000);
        }
        const err = await expectReject(assert, running, TimeoutError,
            `a command in flight when the sandbox is ${how}`);
        assert.match(err.message,
            /killed or reached its end of life|sandbox timeout/, err.message);
        // The edge's 502 is Connect's unavailable, which the SDK reports
        // as "probably not running anymore" for a new command.
        await expectReject(assert, sbx.commands.run('true'),
            SandboxNotFoundError, `a command after the sandbox is ${how}`);
        await expectReject(assert, sbx.files.read('/etc/hostname'),
            TimeoutError, `a file read after the sandbox is ${how}`);
        assert.equal(await sbx.isRunning(), false);
        await watching.stop();
        void watchEnded;
      });
}

test('lifecycle onTimeout=pause pauses at expiry and connect resumes it',
    opts, async (t) => {
      const sbx = await createSandbox(
          t, { timeoutMs: 60_000, lifecycle: { onTimeout: 'pause' } });
      await sbx.files.write('/home/user/kept.txt', 'kept across auto-pause');
      const before = await sbx.getInfo();
      assert.equal(before.lifecycle?.onTimeout, 'pause',
          `lifecycle: ${JSON.stringify(before.lifecycle)}`);
      await sbx.setTimeout(1_000);
      await pollUntil(
          async () => (await Sandbox.getInfo(sbx.sandboxId)).state === 'paused',
          'the sandbox to auto-pause', 30_000);
      const resumed = await Sandbox.connect(sbx.sandboxId, { timeoutMs: 60_000 });
      assert.equal((await resumed.getInfo()).state, 'running');
      assert.equal(await resumed.files.read('/home/user/kept.txt'),
          'kept across auto-pause');
    });

// keepMemory: false is E2B's filesystem-only snapshot: the processes end,
// the files stay, and the next connect cold-boots the sandbox; connect with
// onResume: 'reboot' drops a kept memory the same way; traffic never
// auto-resumes a filesystem-only pause.
test('pause without memory keeps files, not processes; reboot on connect',
    opts, async (t) => {
      const sbx = await createSandbox(t, {
        timeoutMs: 120_000,
        lifecycle: { onTimeout: 'pause', autoResume: true },
      });
      await sbx.files.write('/home/user/state.txt', 'before pause');
      await sbx.files.write('/tmp/scratch.txt', 'in tmp');
      const sleeper = await sbx.commands.run('sleep 600', { background: true });
      await sleeper.disconnect();

      assert.equal(await sbx.pause({ keepMemory: false }), true);
      assert.equal((await sbx.getInfo()).state, 'paused');
      // autoResume does not wake a filesystem-only pause.
      await assert.rejects(sbx.commands.run('true'));
      assert.equal((await sbx.getInfo()).state, 'paused');

      const booted = await Sandbox.connect(sbx.sandboxId, { timeoutMs: 120_000 });
      assert.equal((await booted.getInfo()).state, 'running');
      assert.equal(await booted.files.read('/home/user/state.txt'),
          'before pause');
      assert.equal(await booted.files.read('/tmp/scratch.txt'), 'in tmp');
      assert.deepEqual(await booted.commands.list(), []);
      assert.equal((await booted.commands.run('echo booted')).stdout,
          'booted\n');

      // Memory kept by the pause, dropped by the connect.
      const second =
          await booted.commands.run('sleep 601', { background: true });
      await second.disconnect();
      assert.equal(await booted.pause(), true);
      const rebooted = await Sandbox.connect(
          sbx.sandboxId, { timeoutMs: 120_000, onResume: 'reboot' });
      assert.deepEqual(await rebooted.commands.list(), []);
      assert.equal(await rebooted.files.read('/home/user/state.txt'),
          'before pause');
    });

test('lifecycle onTimeout pause without memory boots afresh on connect',
    opts, async (t) => {
      const sbx = await createSandbox(t, {
        timeoutMs: 60_000,
        lifecycle: { onTimeout: { action: 'pause', keepMemory: false } },
      });
      await sbx.files.write('/home/user/kept.txt', 'kept');
      const sleeper = await sbx.commands.run('sleep 600', { background: true });
      await sleeper.disconnect();
      await sbx.setTimeout(1_000);
      await pollUntil(
          async () => (await Sandbox.getInfo(sbx.sandboxId)).state === 'paused',
          'the sandbox to auto-pause', 30_000);
      const booted = await Sandbox.connect(sbx.sandboxId, { timeoutMs: 60_000 });
      assert.equal(await booted.files.read('/home/user/kept.txt'), 'kept');
      assert.deepEqual(await booted.commands.list(), []);
    });

test('fork copies files into new sandboxes; a count below 1 is 400',
    opts, async (t) => {
      const sbx = await createSandbox(t, { timeoutMs: 120_000 });
      await sbx.files.write('/home/user/fork.txt', 'from the source');
      const forks = await Sandbox.fork(sbx.sandboxId, { count: 2 });
      assert.equal(forks.length, 2);
      for (const fork of forks) {
        assert.ok(fork instanceof Sandbox, `a fork failed: ${fork}`);
        t.after(() => killQuietly(fork));
        assert.notEqual(fork.sandboxId, sbx.sandboxId);
        assert.equal(await fork.files.read('/home/user/fork.txt'),
            'from the source');
      }
      // E2B's API answers 400, which the SDK reports as a SandboxError.
      for (const [count, message] of [[0, 'Count must be at least 1'],
        [-1, 'Count must be at least 1'],
        [101, 'Count cannot be greater than 100']]) {
        const err = await expectReject(assert,
            Sandbox.fork(sbx.sandboxId, { count }), SandboxError,
            `fork with count ${count}`);
        assert.match(err.message, new RegExp(`400: ${message}`));
      }
      assert.equal((await sbx.getInfo()).state, 'running');
    });

test('pause keeps files and processes; connect resumes', opts, async (t) => {
  const sbx = await createSandbox(t, { timeoutMs: 120_000 });
  await sbx.files.write('/home/user/state.txt', 'before pause');
  const sleeper = await sbx.commands.run('sleep 600', { background: true });
  await sleeper.disconnect();

  assert.equal(await sbx.pause(), true);
  assert.equal((await sbx.getInfo()).state, 'paused');
  // A second pause is a 409, which the SDK reports as "already paused".
  assert.equal(await Sandbox.pause(sbx.sandboxId), false);

  const resumed = await Sandbox.connect(sbx.sandboxId, { timeoutMs: 120_000 });
  assert.equal(resumed.sandboxId, sbx.sandboxId);
  assert.equal((await resumed.getInfo()).state, 'running');
  assert.equal(await resumed.files.read('/home/user/state.txt'), 'before pause');
  const procs = await resumed.commands.list();
  assert.ok(procs.some((p) => p.pid === sleeper.pid),
      `pid ${sleeper.pid} did not survive pause: ${JSON.stringify(procs)}`);
  const r = await resumed.commands.run('echo resumed');
  assert.equal(r.stdout, 'resumed\n');

  // Instance connect on a running sandbox is a no-op that still works.
  const again = await resumed.connect();
  assert.equal((await again.commands.run('echo again')).stdout, 'again\n');
});

test('connect to a running sandbox only ever extends its timeout', opts,
    async (t) => {
      const sbx = await createSandbox(t, { timeoutMs: 60_000 });
      await Sandbox.connect(sbx.sandboxId, { timeoutMs: 600_000 });
      let left = secondsBetween(new Date(), (await sbx.getInfo()).endAt);
      assert.ok(left > 570 && left <= 605, `after connect(600s) ${left}s left`);
      await Sandbox.connect(sbx.sandboxId, { timeoutMs: 30_000 });
      left = secondsBetween(new Date(), (await sbx.getInfo()).endAt);
      assert.ok(left > 540, `connect(30s) shortened the timeout to ${left}s`);
    });

test('getMetrics returns samples with CPU, memory and disk figures', opts,
    async (t) => {
      const sbx = await createSandbox(t);
      await sbx.commands.run('head -c 1000000 /dev/urandom | sha256sum');
      const metrics = await pollUntil(async () => {
        const m = await sbx.getMetrics();
        return m.length > 0 ? m : null;
      }, 'a first metrics sample', 30_000);
      for (const m of metrics) {
        assert.ok(m.timestamp instanceof Date &&
            !Number.isNaN(m.timestamp.getTime()), 'timestamp');
        assert.ok(Number.isInteger(m.cpuCount) && m.cpuCount > 0,
            `cpuCount ${m.cpuCount}`);
        assert.ok(typeof m.cpuUsedPct === 'number' && m.cpuUsedPct >= 0,
            `cpuUsedPct ${m.cpuUsedPct}`);
        assert.ok(m.memTotal > 0, `memTotal ${m.memTotal}`);
        assert.ok(m.memUsed >= 0 && m.memUsed <= m.memTotal,
            `memUsed ${m.memUsed} of ${m.memTotal}`);
        assert.ok(m.diskTotal > 0, `diskTotal ${m.diskTotal}`);
        assert.ok(m.diskUsed >= 0 && m.diskUsed <= m.diskTotal,
            `diskUsed ${m.diskUsed} of ${m.diskTotal}`);
      }
      // A window entirely in the past before the sandbox existed is empty.
      const old = await sbx.getMetrics({
        start: new Date(Date.now() - 7_200_000),
        end: new Date(Date.now() - 3_600_000),
      });
      assert.deepEqual(old, []);
    });

test('snapshots: create, list (paged, by sandbox and name), create a ' +
         'sandbox from one, delete',
    opts, async (t) => {
      const sbx = await createSandbox(t, { timeoutMs: 120_000 });
      await sbx.files.write('/home/user/snap.txt', 'in the snapshot');

      const snap = await sbx.createSnapshot();
      assert.equal(typeof snap.snapshotId, 'string');
      assert.ok(snap.snapshotId.length > 0);
      assert.ok(Array.isArray(snap.names));
      const deleted = new Set();
      t.after(async () => {
        for (const id of [snap.snapshotId]) {
          if (!deleted.has(id)) await Sandbox.deleteSnapshot(id).catch(() => {});
        }
      });

      const name = uniqueTag('snap');
      const named = await Sandbox.createSnapshot(sbx.sandboxId, { name });
      t.after(() => Sandbox.deleteSnapshot(named.snapshotId).catch(() => {}));
      assert.ok(named.snapshotId.length > 0);
      assert.notEqual(named.snapshotId, snap.snapshotId);
      assert.ok(named.names.some((n) => n.includes(name)),
          `names ${JSON.stringify(named.names)} do not mention ${name}`);

      const bySandbox = await collectPages(
          Sandbox.listSnapshots({ sandboxId: sbx.sandboxId }));
      assert.deepEqual(bySandbox.items.map((s) => s.snapshotId).sort(),
          [snap.snapshotId, named.snapshotId].sort());
      const viaInstance = await collectPages(sbx.listSnapshots());
      assert.deepEqual(viaInstance.items.map((s) => s.snapshotId).sort(),
          [snap.snapshotId, named.snapshotId].sort());

      const paged = await collectPages(
          Sandbox.listSnapshots({ sandboxId: sbx.sandboxId, limit: 1 }));
      assert.ok(paged.pageSizes.length >= 2,
          `pages ${JSON.stringify(paged.pageSizes)}`);
      assert.ok(paged.pageSizes.every((n) => n <= 1));
      assert.deepEqual(paged.items.map((s) => s.snapshotId).sort(),
          [snap.snapshotId, named.snapshotId].sort());

      const byName = await collectPages(Sandbox.listSnapshots({ name }));
      assert.deepEqual(byName.items.map((s) => s.snapshotId),
          [named.snapshotId]);

      const all = await collectPages(Sandbox.listSnapshots());
      const allIds = all.items.map((s) => s.snapshotId);
      assert.ok(allIds.includes(snap.snapshotId) &&
          allIds.includes(named.snapshotId));

      // A new sandbox started from the snapshot sees the files.
      const child = await Sandbox.create(snap.snapshotId, { timeoutMs: 60_000 });
      try {
        assert.notEqual(child.sandboxId, sbx.sandboxId);
        assert.equal(await child.files.read('/home/user/snap.txt'),
            'in the snapshot');
        // The source sandbox is independent of its snapshot's children.
        await child.files.write('/home/user/snap.txt', 'changed in child');
        assert.equal(await sbx.files.read('/home/user/snap.txt'),
            'in the snapshot');
      } finally {
        await killQuietly(child);
      }

      assert.equal(await Sandbox.deleteSnapshot(snap.snapshotId), true);
      deleted.add(snap.snapshotId);
      assert.equal(await Sandbox.deleteSnapshot(snap.snapshotId), false);
      const after = await collectPages(
          Sandbox.listSnapshots({ sandboxId: sbx.sandboxId }));
      assert.deepEqual(after.items.map((s) => s.snapshotId),
          [named.snapshotId]);
      await expectReject(assert, Sandbox.create(snap.snapshotId), SandboxError,
          'create from a deleted snapshot');
    });
