// envd process.Process conformance through sandbox.commands: streaming
// output, exit codes, background handles, stdin, list/connect, users, cwd,
// env vars and timeouts.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  AuthenticationError,
  CommandExitError,
  InvalidArgumentError,
  NotFoundError,
  Sandbox,
  TimeoutError,
} from 'e2b';

import {
  expectReject,
  killQuietly,
  pollUntil,
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
    envs: { CONF_SBX_ENV: 'from-sandbox', CONF_OVERRIDE: 'sandbox' },
    metadata: { suite: uniqueTag('commands') },
    timeoutMs: 600_000,
  });
});

after(() => killQuietly(sbx));

// Records every callback in arrival order and wakes waiters.
function recorder() {
  const waiter = new Waiter();
  const rec = {
    events: [],
    stdout: '',
    stderr: '',
    waiter,
    onStdout: (data) => {
      rec.events.push(['stdout', data]);
      rec.stdout += data;
      waiter.notify();
    },
    onStderr: (data) => {
      rec.events.push(['stderr', data]);
      rec.stderr += data;
      waiter.notify();
    },
  };
  return rec;
}

test('foreground run streams stdout and stderr to the callbacks', opts,
    async () => {
      const rec = recorder();
      const result = await sbx.commands.run(
          'echo out-1; echo err-1 >&2; echo out-2; echo err-2 >&2',
          { onStdout: rec.onStdout, onStderr: rec.onStderr });
      assert.equal(result.exitCode, 0);
      assert.equal(result.stdout, 'out-1\nout-2\n');
      assert.equal(result.stderr, 'err-1\nerr-2\n');
      assert.equal(rec.stdout, result.stdout);
      assert.equal(rec.stderr, result.stderr);
      assert.equal(result.error, undefined);
    });

test('output arrives while the command runs, in the order it was written',
    opts, async () => {
      // The command blocks on stdin between writes, and the test only
      // unblocks it after seeing the previous line: this proves streaming
      // (nothing is buffered until exit) and orders stdout vs stderr
      // deterministically.
      const rec = recorder();
      const handle = await sbx.commands.run(
          'echo first; read a; echo second >&2; read b; echo third',
          { background: true, stdin: true, onStdout: rec.onStdout,
            onStderr: rec.onStderr });
      await rec.waiter.until(() => rec.stdout === 'first\n', 'stdout "first"');
      await handle.sendStdin('go\n');
      await rec.waiter.until(() => rec.stderr === 'second\n',
          'stderr "second"');
      await handle.sendStdin('go\n');
      const result = await handle.wait();
      assert.equal(result.stdout, 'first\nthird\n');
      assert.equal(result.stderr, 'second\n');
      const order = rec.events.map(([stream, data]) => `${stream}:${data}`);
      assert.deepEqual(
          order, ['stdout:first\n', 'stderr:second\n', 'stdout:third\n']);
    });

test('large and multi-byte output survives chunking', opts, async () => {
  const big = await sbx.commands.run(
      'head -c 1048576 /dev/zero | tr "\\0" "x"');
  assert.equal(big.stdout.length, 1048576);
  assert.ok(/^x+$/.test(big.stdout), 'unexpected bytes in large output');

  const utf8 = await sbx.commands.run(
      'for i in $(seq 1 2000); do printf "héllo wörld ✓ "; done');
  assert.equal(utf8.stdout, 'héllo wörld ✓ '.repeat(2000));
});

test('non-zero exit raises CommandExitError carrying the result', opts,
    async () => {
      const err = await expectReject(
          assert, sbx.commands.run('echo partial; echo oops >&2; exit 3'),
          CommandExitError, 'exit 3');
      assert.equal(err.exitCode, 3);
      assert.equal(err.stdout, 'partial\n');
      assert.equal(err.stderr, 'oops\n');
      assert.equal(typeof err.error, 'string');
      assert.ok(err.error.length > 0, 'EndEvent.error should describe the exit');

      const missing = await expectReject(assert,
          sbx.commands.run('definitely-not-a-command-xyz'), CommandExitError,
          'missing command');
      assert.equal(missing.exitCode, 127);
      assert.match(missing.stderr, /not found/);

      const ok = await sbx.commands.run('exit 0');
      assert.equal(ok.exitCode, 0);
    });

test('background run returns a handle; wait and kill work', opts, async () => {
  const quick = await sbx.commands.run('echo bg-done', { background: true });
  assert.ok(Number.isInteger(quick.pid) && quick.pid > 0, `pid ${quick.pid}`);
  const result = await quick.wait();
  assert.equal(result.stdout, 'bg-done\n');
  assert.equal(quick.exitCode, 0);

  const sleeper = await sbx.commands.run('sleep 120', { background: true });
  assert.equal(sleeper.exitCode, undefined, 'still running');
  const listed = await sbx.commands.list();
  assert.ok(listed.some((p) => p.pid === sleeper.pid),
      `pid ${sleeper.pid} missing from list`);
  assert.equal(await sleeper.kill(), true);
  const killed = await expectReject(
      assert, sleeper.wait(), CommandExitError, 'wait after kill');
  assert.notEqual(killed.exitCode, 0);
  await pollUntil(
      async () => !(await sbx.commands.list()).some((p) => p.pid === sleeper.pid),
      'the killed process to leave the list');

  // A pid that never existed.
  assert.equal(await sbx.commands.kill(2_000_000_000), false);
});

test('stdin: sendStdin and closeStdin via handle and commands', opts,
    async () => {
      const rec = recorder();
      const cat = await sbx.commands.run(
          'cat', { background: true, stdin: true, onStdout: rec.onStdout });
      await cat.sendStdin('hello\n');
      await rec.waiter.until(() => rec.stdout === 'hello\n', 'echo of hello');
      await sbx.commands.sendStdin(cat.pid, new TextEncoder().encode('wörld\n'));
      await rec.waiter.until(() => rec.stdout === 'hello\nwörld\n',
          'echo of wörld');
      await cat.closeStdin();
      const result = await cat.wait();
      assert.equal(result.stdout, 'hello\nwörld\n');

      const wc = await sbx.commands.run(
          'wc -c', { background: true, stdin: true });
      await sbx.commands.sendStdin(wc.pid, 'abcde');
      await sbx.commands.closeStdin(wc.pid);
      assert.equal((await wc.wait()).stdout.trim(), '5');

      // Without stdin: true the command sees EOF at once instead of hanging.
      const noStdin = await sbx.commands.run('cat; echo eof', { timeoutMs: 20_000 });
      assert.equal(noStdin.stdout, 'eof\n');
    });

test('commands.list reports cmd, args, envs and cwd of running commands',
    opts, async () => {
      const marker = uniqueTag('list');
      const cmd = `sleep 120 # ${marker}`;
      const handle = await sbx.commands.run(cmd, {
        background: true,
        cwd: '/tmp',
        envs: { CONF_LIST_MARK: marker },
      });
      try {
        const procs = await sbx.commands.list();
        const mine = procs.find((p) => p.pid === handle.pid);
        assert.ok(mine, `pid ${handle.pid} not in ${JSON.stringify(procs)}`);
        assert.equal(mine.cmd, '/bin/bash');
        assert.deepEqual(mine.args, ['-l', '-c', cmd]);
        assert.equal(mine.envs.CONF_LIST_MARK, marker);
        assert.equal(mine.cwd, '/tmp');
      } finally {
        await handle.kill();
      }
    });

test('commands.connect attaches to a running command by pid', opts,
    async () => {
      const handle = await sbx.commands.run(
          'read line; echo "got:$line"', { background: true, stdin: true });
      await handle.disconnect();

      const rec = recorder();
      const attached = await sbx.commands.connect(
          handle.pid, { onStdout: rec.onStdout });
      assert.equal(attached.pid, handle.pid);
      await sbx.commands.sendStdin(handle.pid, 'via-connect\n');
      const result = await attached.wait();
      assert.equal(result.stdout, 'got:via-connect\n');
      assert.equal(rec.stdout, 'got:via-connect\n');

      await expectReject(assert, sbx.commands.connect(2_000_000_000),
          NotFoundError, 'connect to an unknown pid');
    });

test('user: default is "user" (uid 1000, home /home/user); root on request',
    opts, async () => {
      const asUser = await sbx.commands.run('whoami; id -u; echo "$HOME"; pwd');
      assert.equal(asUser.stdout, 'user\n1000\n/home/user\n/home/user\n');
      const asRoot = await sbx.commands.run(
          'whoami; id -u; echo "$HOME"; pwd', { user: 'root' });
      assert.equal(asRoot.stdout, 'root\n0\n/root\n/root\n');
      const explicitUser = await sbx.commands.run('id -un', { user: 'user' });
      assert.equal(explicitUser.stdout, 'user\n');
      await expectReject(assert,
          sbx.commands.run('true', { user: 'no-such-user-xyz' }),
          AuthenticationError, 'run as an unknown user');
    });

test('cwd option sets the working directory; a missing one is rejected',
    opts, async () => {
      assert.equal((await sbx.commands.run('pwd', { cwd: '/tmp' })).stdout,
          '/tmp\n');
      const dir = `/home/user/${uniqueTag('cwd')}`;
      await sbx.files.makeDir(dir);
      assert.equal((await sbx.commands.run('pwd', { cwd: dir })).stdout,
          `${dir}\n`);
      await expectReject(assert,
          sbx.commands.run('pwd', { cwd: `/nonexistent/${uniqueTag()}` }),
          InvalidArgumentError, 'run with a missing cwd');
    });

test('envs option adds and overrides environment variables', opts,
    async () => {
      const r = await sbx.commands.run(
          'printf "%s|%s|%s" "$CONF_A" "$CONF_SBX_ENV" "$CONF_OVERRIDE"',
          { envs: { CONF_A: 'one two', CONF_OVERRIDE: 'command' } });
      assert.equal(r.stdout, 'one two|from-sandbox|command');
      const plain = await sbx.commands.run('printf "%s" "$CONF_OVERRIDE"');
      assert.equal(plain.stdout, 'sandbox');
    });

test('timeoutMs expiry raises TimeoutError and the process is ended', opts,
    async () => {
      const marker = uniqueTag('timeout');
      const cmd = `sleep 60 # ${marker}`;
      await expectReject(assert, sbx.commands.run(cmd, { timeoutMs: 1_500 }),
          TimeoutError, 'run past timeoutMs');
      await pollUntil(async () => {
        const procs = await sbx.commands.list();
        return !procs.some((p) => p.args.includes(cmd));
      }, 'the timed-out process to be killed by the server');
    });

test('many concurrent commands do not block each other', opts, async () => {
  // One long stream open while others start and finish.
  const rec = recorder();
  const blocker = await sbx.commands.run(
      'echo started; read x; echo released',
      { background: true, stdin: true, onStdout: rec.onStdout });
  await rec.waiter.until(() => rec.stdout === 'started\n', 'blocker start');
  const runs = Array.from({ length: 8 }, (_, i) =>
    sbx.commands.run(`echo job-${i}`));
  const results = await Promise.all(runs);
  results.forEach((r, i) => assert.equal(r.stdout, `job-${i}\n`));
  await blocker.sendStdin('\n');
  assert.equal((await blocker.wait()).stdout, 'started\nreleased\n');
});
