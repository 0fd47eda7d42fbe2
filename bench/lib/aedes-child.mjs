// Bare aedes, the baseline for the telemetry benchmark: `await Aedes.createBroker()` (default
// in-memory persistence, no authentication hooks) on a plain net.Server bound to 127.0.0.1.
// Sends {type:'ready', port} over IPC; exits on SIGTERM or when the IPC channel closes.
import { createServer } from 'node:net'
import { Aedes } from 'aedes'

const broker = await Aedes.createBroker()
const server = createServer(broker.handle)
server.listen(0, '127.0.0.1', () => {
  process.send?.({ type: 'ready', port: server.address().port, pid: process.pid })
})
const stop = () => {
  server.close()
  broker.close(() => process.exit(0))
  setTimeout(() => process.exit(0), 2000).unref()
}
process.on('SIGTERM', stop)
process.on('disconnect', stop)
