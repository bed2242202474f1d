// Shared helpers for the conformance suite. The tests drive the official E2B
// JS SDK exactly as a user would; these helpers only handle setup, cleanup and
// bounded waiting, never protocol details (those must go through the SDK).
import { randomBytes } from 'node:crypto';
import { Sandbox } from 'e2b';

// Per-test budget. Generous because the machine is shared and slow, but
// bounded so a server that hangs fails the test instead of the whole run.
export const TEST_TIMEOUT_MS = 90_000;

// Upper bound for anything we wait on (events, state changes).
export const WAIT_MS = 20_000;

const REQUIRED_ENV = ['E2B_API_URL', 'E2B_SANDBOX_URL', 'E2B_API_KEY'];

// Fails loudly when the suite is started without a server: every test would
// otherwise try to reach the real E2B cloud.
export function requireServerEnv() {
  const missing = REQUIRED_ENV.filter((name) => !process.env[name]);
  if (missing.length > 0) {
    throw new Error(
      `missing ${missing.join(', ')}: run the suite through ` +
        'tests/conformance/run.sh <path-to-e2b-local>');
  }
  return {
    apiUrl: process.env.E2B_API_URL,
    sandboxUrl: process.env.E2B_SANDBOX_URL,
    apiKey: process.env.E2B_API_KEY,
  };
}

// A short random suffix so concurrent or repeated runs never see each
// other's sandboxes, files or snapshots.
export function uniqueTag(prefix = 'conf') {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

// A syntactically valid sandbox ID ("i" + 20 [a-z0-9]) that no server issued.
export function unknownSandboxId() {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let id = 'i';
  for (const byte of randomBytes(20)) id += alphabet[byte % alphabet.length];
  return id;
}

// Kills a sandbox and swallows errors: cleanup must never mask the real
// failure of a test.
export async function killQuietly(sandboxOrId) {
  if (!sandboxOrId) return;
  try {
    if (typeof sandboxOrId === 'string') {
      await Sandbox.kill(sandboxOrId);
    } else {
      await sandboxOrId.kill();
    }
  } catch {
    // Already gone or server down; nothing more to clean.
  }
}

// Creates a sandbox and registers its kill on the test context, so every
// test cleans up what it made even when an assertion fails midway.
export async function createSandbox(t, templateOrOpts, maybeOpts) {
  requireServerEnv();
  const sandbox =
      typeof templateOrOpts === 'string'
          ? await Sandbox.create(templateOrOpts, maybeOpts)
          : await Sandbox.create(templateOrOpts);
  t.after(() => killQuietly(sandbox));
  return sandbox;
}

// Rejects after `ms` with a message naming what we were waiting for, so a
// missing event shows up as a clear assertion failure instead of a hang.
export function withDeadline(promise, ms, what) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(
        () => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)),
        ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

// Event-driven waiting: producers (SDK callbacks) call notify(), consumers
// await until(predicate). No polling, no sleeps; bounded by a deadline.
export class Waiter {
  constructor() {
    this.pending = [];
  }

  notify() {
    for (const entry of [...this.pending]) {
      let done = false;
      try {
        done = entry.predicate();
      } catch (err) {
        this.pending = this.pending.filter((e) => e !== entry);
        entry.reject(err);
        continue;
      }
      if (done) {
        this.pending = this.pending.filter((e) => e !== entry);
        entry.resolve();
      }
    }
  }

  until(predicate, what, ms = WAIT_MS) {
    if (predicate()) return Promise.resolve();
    const waiting = new Promise((resolve, reject) => {
      this.pending.push({ predicate, resolve, reject });
    });
    return withDeadline(waiting, ms, what).finally(() => {
      this.pending = this.pending.filter((e) => e.predicate !== predicate);
    });
  }
}

// For server-side state changes that emit no event (sandbox expiry, a killed
// process leaving the list): polls `check` until it returns a truthy value,
// with a hard deadline. Returns that value.
export async function pollUntil(check, what, ms = WAIT_MS, intervalMs = 200) {
  const end = Date.now() + ms;
  let lastError;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= end) {
      const suffix = lastError ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${ms} ms waiting for ${what}${suffix}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

// Collects every item of a paginator (Sandbox.list, Sandbox.listSnapshots),
// returning the items and the size of each page.
export async function collectPages(paginator, maxPages = 50) {
  const items = [];
  const pageSizes = [];
  while (paginator.hasNext) {
    if (pageSizes.length >= maxPages) {
      throw new Error(`paginator still has pages after ${maxPages} pages`);
    }
    const page = await paginator.nextItems();
    pageSizes.push(page.length);
    items.push(...page);
  }
  return { items, pageSizes };
}

// Reads a WHATWG ReadableStream<Uint8Array> to one Buffer.
export async function readAll(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

// Asserts that `promise` rejects with an instance of `ErrorClass`, and
// returns the error for further checks. node:assert's rejects() does the
// matching, this adds the class name to the message for readable reports.
export async function expectReject(assert, promise, ErrorClass, what) {
  let caught;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught, `${what}: expected ${ErrorClass.name}, but it resolved`);
  assert.ok(
      caught instanceof ErrorClass,
      `${what}: expected ${ErrorClass.name}, got ` +
          `${caught?.constructor?.name}: ${caught?.message}`);
  return caught;
}
