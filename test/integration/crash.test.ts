// Crash safety: the hub runs as a child process (the real CLI), several devices stream reported
// patches and QoS 1 telemetry, the hub is SIGKILLed mid-stream, and the same data dir is opened
// again (in-process) to check that everything the hub acknowledged before dying is there.
import { readFile } from 'node:fs/promises'
import { describe, expect, it, onTestFinished } from 'vitest'
import { startHubInProcess, startHubProcess, uid, waitFor, type Defer } from '../helpers/hub.js'
import { connectRawDevice, type RawDevice } from '../helpers/mqtt-device.js'
import { parseConnectionString } from '../helpers/sdk.js'

const DEVICES = 4
// Concurrent operations per connection (half reported patches, half telemetry), so the hub has work in flight.
const WORKERS_PER_DEVICE = 4
/** Kill once this many acknowledgements of each kind have been seen (and the streams are still going). */
const KILL_AFTER = { reported: 100 + Math.floor(Math.random() * 60), telemetry: 120 + Math.floor(Math.random() * 60) }
const MAX_PATCHES_PER_DEVICE = 600 // keeps the reported section well under the 32 KB limit

interface DeviceLog {
  id: string
  key: string
  /** Acknowledged reported patches: patch number -> $version from the 204 reply. */
  ackedPatches: Map<number, number>
  /** Replies that were not 204 (each is a bug while the hub is alive). */
  badReplies: string[]
  ackedTelemetry: Set<string>
  sentPatches: number
  sentTelemetry: number
}

describe('SIGKILL mid-stream loses nothing the hub acknowledged', () => {
  it('acknowledged reported patches and telemetry survive a SIGKILL', async () => {
    const defer: Defer = (fn) => { onTestFinished(async () => { await fn() }) }
    const proc = await startHubProcess({ defer })
    const ca = await readFile(proc.caFile, 'utf8')
    const url = `mqtts://${proc.bind}:8883`

    const logs: DeviceLog[] = []
    for (let i = 0; i < DEVICES; i++) {
      const id = uid(`crash${i}`)
      const cs = await proc.addDevice(id)
      const p = parseConnectionString(cs)
      expect(p.HostName).toBe(proc.hostName)
      logs.push({ id, key: p.SharedAccessKey!, ackedPatches: new Map(), badReplies: [], ackedTelemetry: new Set(), sentPatches: 0, sentTelemetry: 0 })
    }
    const devices: RawDevice[] = []
    for (const log of logs) {
      const d = await connectRawDevice({ url, host: proc.hostName, deviceId: log.id, key: log.key, ca })
      defer(() => d.end())
      devices.push(d)
    }

    // Stream until the hub dies. Every acknowledgement is recorded the moment it arrives.
    let totalReported = 0
    let totalTelemetry = 0
    let stop = false
    let onProgress: () => void = () => {}
    const progressed = (): void => { onProgress() }
    const enough = new Promise<void>((resolve) => {
      onProgress = () => { if (totalReported >= KILL_AFTER.reported && totalTelemetry >= KILL_AFTER.telemetry) resolve() }
    })
    const streamErrors: string[] = []

    const worker = async (d: RawDevice, log: DeviceLog, w: number): Promise<void> => {
      while (!stop) {
        try {
          if (w % 2 === 0 && log.sentPatches < MAX_PATCHES_PER_DEVICE) {
            const n = ++log.sentPatches
            const reply = await d.reportPatch({ [`p${n}`]: n, last: n })
            if (reply.status === 204 && reply.version !== null) {
              log.ackedPatches.set(n, reply.version)
              totalReported++
            } else {
              log.badReplies.push(`patch ${n}: status ${reply.status} version ${reply.version} body ${reply.body}`)
            }
          } else {
            const mid = `${log.id}-m${++log.sentTelemetry}`
            await d.sendTelemetry(mid, JSON.stringify({ mid, at: Date.now() }), { worker: String(w) })
            log.ackedTelemetry.add(mid)
            totalTelemetry++
          }
          progressed()
        } catch (err) {
          // Expected once the hub is gone; before that it is a failure.
          if (!stop) streamErrors.push(`${log.id} worker ${w}: ${(err as Error).message}`)
          return
        }
      }
    }
    const streams = devices.flatMap((d, i) => Array.from({ length: WORKERS_PER_DEVICE }, (_, w) => worker(d, logs[i]!, w)))

    let reachedKillPoint = false
    const watchdog = waitFor(() => reachedKillPoint || streamErrors.length > 0 || !proc.alive, 45_000, 'enough acknowledgements')
      .then(() => {
        if (!reachedKillPoint) throw new Error(`the stream broke before the kill: ${streamErrors.join('; ')}\nhub stderr:\n${proc.stderr()}`)
      })
    await Promise.race([enough, watchdog])
    reachedKillPoint = true
    await watchdog
    expect(streamErrors, proc.stderr()).toEqual([])
    const killed = await proc.kill('SIGKILL')
    stop = true
    expect(killed.signal).toBe('SIGKILL')
    // Freeze the record: whatever was acknowledged before the process died (acks cannot arrive afterwards).
    await Promise.all(devices.map((d) => d.closed))
    await Promise.allSettled(streams)
    for (const log of logs) expect(log.badReplies, `${log.id}: non-204 replies before the kill`).toEqual([])

    // Reopen the same data dir in-process, on the same IP and ports.
    const h = await startHubInProcess({ defer, dataDir: proc.dataDir, bind: proc.bind, hostName: proc.hostName })
    const problems = h.hub.store.recovery.problems
    if (process.env['DEBUG_CRASH'] !== undefined) console.log('crash summary', logs.map((l) => [l.ackedPatches.size, l.sentPatches, l.ackedTelemetry.size, l.sentTelemetry]), problems)
    const summary = logs.map((l) => `${l.id}: ${l.ackedPatches.size}/${l.sentPatches} patches, ${l.ackedTelemetry.size}/${l.sentTelemetry} telemetry acked`).join('\n')

    // The cursor reader (used by the upstream sync) sees the same acknowledged messages, each once.
    const fromLog = new Map<string, number>()
    for (let seq = h.hub.telemetry.stats().oldestSeq ?? 0; ;) {
      const page = await h.hub.telemetry.read(seq, 500)
      if (page.length === 0) break
      for (const m of page) {
        const mid = m.systemProperties['messageId']
        if (mid !== undefined) fromLog.set(mid, (fromLog.get(mid) ?? 0) + 1)
      }
      seq = page[page.length - 1]!.seq + 1
    }
    const ackedAll = logs.flatMap((l) => [...l.ackedTelemetry])
    expect(ackedAll.filter((mid) => !fromLog.has(mid)), 'acknowledged telemetry missing from telemetry.read()').toEqual([])
    expect([...fromLog].filter(([, n]) => n > 1), 'telemetry stored twice').toEqual([])

    for (const log of logs) {
      const identity = { deviceId: log.id }
      // Telemetry: every PUBACKed message is in the log.
      const history = await h.hub.telemetry.history(identity, 1_000_000)
      const stored = new Set(history.map((s) => s.systemProperties['messageId']))
      const lostTelemetry = [...log.ackedTelemetry].filter((mid) => !stored.has(mid))
      expect(lostTelemetry, `${log.id}: acknowledged telemetry missing after the crash\n${summary}\nrecovery problems: ${JSON.stringify(problems)}`).toEqual([])

      // Reported: the final state reflects every acknowledged patch.
      const reported = h.hub.twins.get(identity).properties.reported
      const lostPatches = [...log.ackedPatches.keys()].filter((n) => reported[`p${n}`] !== n)
      expect(lostPatches, `${log.id}: acknowledged reported patches missing after the crash\n${summary}`).toEqual([])
      const versions = [...log.ackedPatches.values()]
      expect(new Set(versions).size, `${log.id}: two acknowledged patches got the same $version`).toBe(versions.length)
      const maxAcked = Math.max(1, ...versions)
      expect(reported.$version).toBeGreaterThanOrEqual(maxAcked)
      // Each applied patch raised the version by at least one (the twin starts at $version 1).
      expect(reported.$version - 1).toBeGreaterThanOrEqual(log.ackedPatches.size)
    }

    // Versions are not reused after the restart: a new patch gets a higher $version than any acked one.
    for (const log of logs) {
      const before = h.hub.twins.get({ deviceId: log.id }).properties.reported.$version
      const d = await connectRawDevice({ url, host: h.hostName, deviceId: log.id, key: log.key, ca })
      defer(() => d.end())
      const reply = await d.reportPatch({ afterRestart: true })
      expect(reply.status).toBe(204)
      expect(reply.version).not.toBeNull()
      expect(reply.version!).toBeGreaterThan(before)
      expect(reply.version!).toBeGreaterThan(Math.max(0, ...log.ackedPatches.values()))
      // And telemetry still flows into the same log.
      const mid = uid('after')
      await d.sendTelemetry(mid, 'after restart')
      expect((await h.hub.telemetry.history({ deviceId: log.id }, 10)).some((s) => s.systemProperties['messageId'] === mid)).toBe(true)
      await d.end()
    }

    // The CLI hub starts again on the data dir a SIGKILLed process left behind (lock, admin socket).
    await h.close()
    await proc.restart()
    const status = await proc.cli(['status'])
    expect(status.code, `${status.stdout}\n${status.stderr}\nhub stderr:\n${proc.stderr()}`).toBe(0)
    const shown = await proc.cli(['device', 'show', logs[0]!.id, '--json'])
    expect(shown.code, shown.stderr).toBe(0)
  }, 120_000)
})
