// The official E2B JS SDK side of the call-overhead benchmark.
//
//   node bench.mjs <sandboxId>
//
// Connects to an existing sandbox (E2B_API_URL, E2B_SANDBOX_URL and
// E2B_API_KEY from the environment), prints {"ready":true}, then serves one
// request per stdin line so the C++ harness can interleave it with its own
// batches without paying node's start-up each time:
//   info <n>          n x sandbox.getInfo()
//   run <n> <cmd...>  n x sandbox.commands.run(<cmd>)
//   quit
// Each request answers one JSON line {"seconds":[...],"cpu_seconds":x}
// (per-call wall times, the batch's CPU time), or {"error":"..."} when a
// call failed.
import readline from 'node:readline'
import { Sandbox } from 'e2b'

function reply(object) {
  process.stdout.write(JSON.stringify(object) + '\n')
}

// Per-call wall times, and the CPU time (user and system, all of node's
// threads) the whole batch took.
async function timed(n, call) {
  const seconds = []
  const cpuStart = process.cpuUsage()
  for (let i = 0; i < n; i++) {
    const start = process.hrtime.bigint()
    await call()
    seconds.push(Number(process.hrtime.bigint() - start) / 1e9)
  }
  const cpu = process.cpuUsage(cpuStart)
  return { seconds, cpu_seconds: (cpu.user + cpu.system) / 1e6 }
}

async function main() {
  const sandboxId = process.argv[2]
  if (!sandboxId) {
    reply({ error: 'usage: node bench.mjs <sandboxId>' })
    process.exit(2)
  }
  const sandbox = await Sandbox.connect(sandboxId)
  reply({ ready: true, sdk: 'e2b-js' })

  const lines = readline.createInterface({ input: process.stdin })
  for await (const line of lines) {
    const [op, count, ...rest] = line.trim().split(' ')
    const n = Number.parseInt(count ?? '0', 10)
    try {
      if (op === 'quit' || op === '') break
      if (op === 'info') {
        reply(await timed(n, () => sandbox.getInfo()))
      } else if (op === 'run') {
        const cmd = rest.join(' ')
        reply(
          await timed(n, async () => {
            const result = await sandbox.commands.run(cmd)
            if (result.exitCode !== 0) throw new Error(`exit ${result.exitCode}`)
          }),
        )
      } else {
        reply({ error: `unknown request: ${op}` })
      }
    } catch (e) {
      reply({ error: String(e && e.message ? e.message : e) })
    }
  }
  process.exit(0)
}

main().catch((e) => {
  reply({ error: String(e && e.message ? e.message : e) })
  process.exit(1)
})
