// PTY conformance through sandbox.pty: create, input echo, resize,
// connect, kill and exit.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { CommandExitError, Sandbox } from 'e2b';

import {
  expectReject,
  killQuietly,
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
    metadata: { suite: uniqueTag('pty') },
    timeoutMs: 600_000,
  });
});

after(() => killQuietly(sbx));

// Accumulates PTY output as text. The markers we wait for are computed by
// the shell ($((...))), so the terminal's echo of the typed line can never
// satisfy a wait by itself.
function terminal() {
  const waiter = new Waiter();
  const decoder = new TextDecoder();
  const term = {
    output: '',
    chunks: 0,
    waiter,
    onData: (data) => {
      assert.ok(data instanceof Uint8Array, 'onData must get bytes');
      term.chunks++;
      term.output += decoder.decode(data, { stream: true });
      waiter.notify();
    },
    until: (text, what) =>
      waiter.until(() => term.output.includes(text), what ?? `"${text}"`),
  };
  return term;
}

const encode = (s) => new TextEncoder().encode(s);

test('create, sendInput with echo, resize, exit', opts, async () => {
  const term = terminal();
  const handle = await sbx.pty.create(
      { cols: 80, rows: 24, onData: term.onData, timeoutMs: 60_000 });
  assert.ok(Number.isInteger(handle.pid) && handle.pid > 0);

  await sbx.pty.sendInput(handle.pid, encode('echo pty-$((40+2))\n'));
  await term.until('pty-42');
  // The terminal echoes what was typed.
  assert.ok(term.output.includes('echo pty-$((40+2))'),
      `no echo of the input in ${JSON.stringify(term.output)}`);

  await sbx.pty.sendInput(handle.pid,
      encode('[ -t 0 ] && echo tty-$((1+1)); echo "size-$(stty size)"\n'));
  await term.until('tty-2', 'stdin is a terminal');
  await term.until('size-24 80', 'initial size 24x80');

  await sbx.pty.resize(handle.pid, { cols: 132, rows: 40 });
  await sbx.pty.sendInput(handle.pid, encode('echo "size-$(stty size)"\n'));
  await term.until('size-40 132', 'size after resize');

  await sbx.pty.sendInput(handle.pid, encode('echo "term-$TERM"\n'));
  await term.until('term-xterm-256color');

  const listed = await sbx.commands.list();
  const mine = listed.find((p) => p.pid === handle.pid);
  assert.ok(mine, 'the PTY is listed by commands.list');
  assert.equal(mine.cmd, '/bin/bash');
  assert.deepEqual(mine.args, ['-i', '-l']);

  await sbx.pty.sendInput(handle.pid, encode('exit 0\n'));
  const result = await handle.wait();
  assert.equal(result.exitCode, 0);
});

test('Ctrl-C reaches the foreground job through the line discipline', opts,
    async () => {
      const term = terminal();
      const handle = await sbx.pty.create(
          { cols: 80, rows: 24, onData: term.onData });
      try {
        // The marker comes from the job itself, after bash has handed it
        // the terminal and reset its signals: a Ctrl-C sent between bash's
        // fork and that reset reached bash's own handler in the child,
        // which then ran `sleep 300` to the end (seen once in CI).
        await sbx.pty.sendInput(handle.pid,
            encode("sh -c 'echo sleeping-$((2*2)); exec sleep 300'\n"));
        await term.until('sleeping-4');
        await sbx.pty.sendInput(handle.pid, encode('\x03'));
        await sbx.pty.sendInput(handle.pid, encode('echo after-$((1+2))\n'));
        await term.until('after-3', 'the shell after Ctrl-C');
      } finally {
        await handle.kill();
      }
    });

test('user, cwd and envs options', opts, async () => {
  const term = terminal();
  const handle = await sbx.pty.create({
    cols: 80,
    rows: 24,
    onData: term.onData,
    user: 'root',
    cwd: '/tmp',
    envs: { CONF_PTY_VAR: 'pty-env' },
  });
  try {
    await sbx.pty.sendInput(handle.pid,
        encode('echo "who-$(id -u)-$(pwd)-$CONF_PTY_VAR"\n'));
    await term.until('who-0-/tmp-pty-env');
  } finally {
    await handle.kill();
  }

  const userTerm = terminal();
  const userPty = await sbx.pty.create(
      { cols: 80, rows: 24, onData: userTerm.onData });
  try {
    await sbx.pty.sendInput(userPty.pid,
        encode('echo "who-$(id -un)-$(pwd)"\n'));
    await userTerm.until('who-user-/home/user');
  } finally {
    await userPty.kill();
  }
});

test('connect to a running PTY after disconnecting', opts, async () => {
  const first = terminal();
  const handle = await sbx.pty.create(
      { cols: 80, rows: 24, onData: first.onData });
  try {
    await sbx.pty.sendInput(handle.pid, encode('echo one-$((0+1))\n'));
    await first.until('one-1');
    await handle.disconnect();

    const second = terminal();
    const attached = await sbx.pty.connect(
        handle.pid, { onData: second.onData });
    assert.equal(attached.pid, handle.pid);
    await sbx.pty.sendInput(handle.pid, encode('echo two-$((1+1))\n'));
    await second.until('two-2', 'output on the reconnected handle');
    await sbx.pty.sendInput(handle.pid, encode('exit 7\n'));
    const err = await expectReject(
        assert, attached.wait(), CommandExitError, 'PTY exit 7');
    assert.equal(err.exitCode, 7);
  } finally {
    await sbx.pty.kill(handle.pid).catch(() => {});
  }
});

test('kill ends the PTY; wait reports a non-zero exit', opts, async () => {
  const term = terminal();
  const handle = await sbx.pty.create(
      { cols: 80, rows: 24, onData: term.onData });
  await sbx.pty.sendInput(handle.pid, encode('echo ready-$((3+3))\n'));
  await term.until('ready-6');
  assert.equal(await sbx.pty.kill(handle.pid), true);
  const err = await expectReject(
      assert, handle.wait(), CommandExitError, 'wait after PTY kill');
  assert.notEqual(err.exitCode, 0);
  assert.equal(await sbx.pty.kill(2_000_000_000), false);
});
