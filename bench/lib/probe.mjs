// Preloaded into benchmark children with `node --import bench/lib/probe.mjs` (plain JS: it runs
// before any TypeScript loader). When the child has an IPC channel it answers
// {type:'probe', gc?:boolean} with its process.cpuUsage() and process.memoryUsage(), after a
// full GC if asked and the child runs with --expose-gc. The channel is unref'd so it never
// keeps the child alive: SIGTERM still ends the hub the normal way.
if (typeof process.send === 'function') {
  process.on('message', (msg) => {
    if (!msg || msg.type !== 'probe') return
    let gcRan = false
    if (msg.gc && typeof globalThis.gc === 'function') {
      globalThis.gc()
      globalThis.gc()
      gcRan = true
    }
    process.send({ type: 'probe', id: msg.id, pid: process.pid, gc: gcRan, cpu: process.cpuUsage(), mem: process.memoryUsage() })
  })
  process.channel?.unref()
}
