// Device -> hub messages of line protocol v1 once identified (docs/serial-protocol.md):
// tel, rep, get, res, ack (of a c2d), ping, pong, bye. One function per message kind.
import { isHubError } from '../../errors.js'
import type { Hub } from '../../services.js'
import type { JsonValue, Logger, TelemetryMessage } from '../../types.js'
import type { LineSession, SessionIo } from './line-session.js'

/** [A.5] D2C messages are at most 256 KB, as over MQTT. */
const MAX_TELEMETRY_BYTES = 256 * 1024
const RECENT_TEL = 64

export interface HandlerCtx {
  hub: Hub
  log: Logger
  io: SessionIo
  counters: { telemetry: number; twinPatches: number; twinGets: number; methodResponses: number }
  /** The port's own counters (retransmissions seen). */
  port?: { retransmits: number }
}

export type Msg = Record<string, unknown>

const reqId = (m: Msg): string | number | undefined => (typeof m['i'] === 'number' || typeof m['i'] === 'string' ? m['i'] : undefined)
const idJson = (i: string | number | undefined): string => (i === undefined ? '' : `,"i":${JSON.stringify(i)}`)

export function nak (ctx: HandlerCtx, s: LineSession, i: string | number | undefined, code: number, msg: string): void {
  ctx.io.sendText(s, `{"t":"nak"${idJson(i)},"code":${code},"msg":${JSON.stringify(msg)}}`)
}

function errorCode (err: unknown): number {
  return isHubError(err) ? err.code : 500001
}

export function handleTelemetry (ctx: HandlerCtx, s: LineSession, m: Msg): void {
  const i = reqId(m)
  const identity = s.identity
  if (identity === null) return
  const dedupKey = i === undefined ? undefined : String(i)
  const seen = dedupKey === undefined ? undefined : s.recentTel.get(dedupKey)
  if (seen !== undefined) {
    // a retransmission (our ack was lost): ack again once the first copy is durable
    if (ctx.port !== undefined) ctx.port.retransmits++
    seen.then(() => { ctx.io.sendText(s, `{"t":"ack"${idJson(i)}}`) }, () => {})
    return
  }
  let body: Buffer
  const systemProperties: Record<string, string> = {}
  if (typeof m['b64'] === 'string') {
    body = Buffer.from(m['b64'], 'base64')
  } else if (typeof m['body'] === 'string') {
    body = Buffer.from(m['body'], 'utf8')
    systemProperties['contentEncoding'] = 'utf-8'
  } else if (m['body'] !== undefined) {
    body = Buffer.from(JSON.stringify(m['body']), 'utf8')
    systemProperties['contentType'] = 'application/json'
    systemProperties['contentEncoding'] = 'utf-8'
  } else {
    nak(ctx, s, i, 400004, 'tel needs "body" (any JSON) or "b64"')
    return
  }
  if (typeof m['ct'] === 'string') systemProperties['contentType'] = m['ct']
  if (typeof m['mid'] === 'string') systemProperties['messageId'] = m['mid']
  if (body.length > MAX_TELEMETRY_BYTES) {
    nak(ctx, s, i, 413001, `message of ${body.length} bytes exceeds ${MAX_TELEMETRY_BYTES}`)
    return
  }
  const properties: Record<string, string | null> = {}
  const props = m['props']
  if (typeof props === 'object' && props !== null && !Array.isArray(props)) {
    for (const [k, v] of Object.entries(props)) properties[k] = v === null ? null : String(v)
  }
  const msg: TelemetryMessage = {
    deviceId: identity.deviceId,
    systemProperties,
    properties,
    body,
    enqueuedTime: new Date(ctx.hub.clock.now()).toISOString(),
    transport: 'serial'
  }
  // ack only once durable [ARCHITECTURE: every acknowledged write is durable before the ack]
  const done = ctx.hub.telemetry.accept(msg).then(() => {
    ctx.counters.telemetry++
    ctx.io.sendText(s, `{"t":"ack"${idJson(i)}}`)
  })
  if (dedupKey !== undefined) {
    s.recentTel.set(dedupKey, done)
    if (s.recentTel.size > RECENT_TEL) s.recentTel.delete(s.recentTel.keys().next().value as string)
  }
  done.catch((err: Error) => {
    if (dedupKey !== undefined) s.recentTel.delete(dedupKey)
    ctx.log.error('serial telemetry not accepted', { key: identity.deviceId, error: err.message })
    nak(ctx, s, i, errorCode(err), err.message)
  })
}

function enqueue (ctx: HandlerCtx, s: LineSession, op: () => Promise<void> | void): void {
  s.twinQueue = s.twinQueue.then(op).catch((err: Error) => {
    ctx.log.error('serial twin request failed', { error: err.message })
  })
}

export function handleReported (ctx: HandlerCtx, s: LineSession, m: Msg): void {
  const i = reqId(m)
  const identity = s.identity
  if (identity === null) return
  const patch = m['patch']
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    nak(ctx, s, i, 400004, 'rep needs "patch": a JSON object')
    return
  }
  enqueue(ctx, s, async () => {
    try {
      const ver = await ctx.hub.twins.patchReported(identity, patch as JsonValue)
      ctx.counters.twinPatches++
      ctx.io.sendText(s, `{"t":"ack"${idJson(i)},"ver":${ver}}`)
    } catch (err) {
      nak(ctx, s, i, errorCode(err), (err as Error).message)
    }
  })
}

export function handleTwinGet (ctx: HandlerCtx, s: LineSession, m: Msg): void {
  const i = reqId(m)
  const identity = s.identity
  if (identity === null) return
  enqueue(ctx, s, () => {
    try {
      const twin = ctx.hub.twins.getForDevice(identity)
      ctx.counters.twinGets++
      ctx.io.sendText(s, `{"t":"twin"${idJson(i)},"desired":${JSON.stringify(twin.desired)},"reported":${JSON.stringify(twin.reported)}}`)
    } catch (err) {
      nak(ctx, s, i, errorCode(err), (err as Error).message)
    }
  })
}

export function handleMethodResponse (ctx: HandlerCtx, s: LineSession, m: Msg): void {
  const identity = s.identity
  if (identity === null) return
  const i = reqId(m)
  const status = m['status']
  if (i === undefined || typeof status !== 'number' || !Number.isInteger(status)) {
    nak(ctx, s, i, 400004, 'res needs "i" (the call id) and an integer "status"')
    return
  }
  ctx.counters.methodResponses++
  const payload = (m['payload'] ?? null) as JsonValue
  if (!ctx.hub.methods.handleResponse(identity, String(i), status, payload)) {
    ctx.log.debug('serial method response for an unknown request', { key: identity.deviceId, rid: i })
  }
}

export function handleAck (s: LineSession, m: Msg): void {
  const i = reqId(m)
  if (i === undefined) return
  const p = s.c2dPending.get(String(i))
  if (p === undefined) return
  s.c2dPending.delete(String(i))
  if (m['t'] === 'nak') p.reject(new Error(`device rejected the message: ${String(m['msg'] ?? 'nak')}`))
  else p.resolve()
}
