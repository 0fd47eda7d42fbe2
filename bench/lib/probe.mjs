// Preloaded into benchmark children with `node --import bench/lib/probe.mjs` (plain JS: it runs
// before any TypeScript loader). When the child has an IPC channel it answers:
//   {type:'probe', id, gc?}        -> process.cpuUsage() and memoryUsage() (after two full GCs
//                                     if asked and the child runs with --expose-gc)
//   {type:'profile-start', id}     -> starts the V8 CPU profiler (inspector, in-process)
//   {type:'profile-stop', id, file}-> stops it and writes the .cpuprofile to `file`
// so a benchmark can profile exactly its measured phase. The channel is unref'd so it never
// keeps the child alive: SIGTERM still ends the hub the normal way.
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'

if (typeof process.send === 'function') {
  let session = null
  const post = (method, params) => new Promise((resolve, reject) => {
    session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res)))
  })
  const reply = (msg, extra) => process.send({ type: msg.type, id: msg.id, pid: process.pid, ...extra })
  process.on('message', (msg) => {
    if (!msg || typeof msg.type !== 'string') return
    if (msg.type === 'probe') {
      let gcRan = false
      if (msg.gc && typeof globalThis.gc === 'function') {
        globalThis.gc()
        globalThis.gc()
        gcRan = true
      }
      reply(msg, { gc: gcRan, cpu: process.cpuUsage(), mem: process.memoryUsage() })
    } else if (msg.type === 'profile-start') {
      session ??= new Session()
      session.connect()
      post('Profiler.enable')
        .then(() => post('Profiler.setSamplingInterval', { interval: msg.intervalUs ?? 500 }))
        .then(() => post('Profiler.start'))
        .then(() => reply(msg, { ok: true }), (err) => reply(msg, { ok: false, error: String(err) }))
    } else if (msg.type === 'profile-stop') {
      post('Profiler.stop')
        .then(({ profile }) => { writeFileSync(msg.file, JSON.stringify(profile)); session.disconnect() })
        .then(() => reply(msg, { ok: true, file: msg.file }), (err) => reply(msg, { ok: false, error: String(err) }))
    }
  })
  process.channel?.unref()
}
