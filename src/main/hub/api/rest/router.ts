// A tiny router: METHOD + path pattern with {params}; each segment decoded once (C.1).
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Identity, Permission } from '../../types.js'

export interface RouteContext {
  req: IncomingMessage
  res: ServerResponse
  params: Record<string, string>
  query: URLSearchParams
  /** The shared access policy that authenticated the call (absent on device-facing routes). */
  policy?: string
}

export interface Route {
  method: string
  pattern: string
  /** Permission the caller's policy needs (A.3 suggested mapping). */
  need: Permission
  handle(ctx: RouteContext): Promise<void>
}

interface Compiled { route: Route; parts: string[] }

export function createRouter (routes: Route[]) {
  const compiled: Compiled[] = routes.map((route) => ({ route, parts: route.pattern.split('/').filter(Boolean) }))
  return {
    match (method: string, pathname: string): { route: Route; params: Record<string, string> } | { error: 404 | 405 } {
      const segs = pathname.split('/').filter(Boolean)
      let pathMatched = false
      for (const { route, parts } of compiled) {
        if (parts.length !== segs.length) continue
        const params: Record<string, string> = {}
        let ok = true
        for (let i = 0; i < parts.length && ok; i++) {
          const p = parts[i] as string
          const s = segs[i] as string
          if (p.startsWith('{')) {
            try {
              params[p.slice(1, -1)] = decodeURIComponent(s)
            } catch {
              ok = false
            }
          } else if (p !== s) ok = false
        }
        if (!ok) continue
        pathMatched = true
        if (route.method === method) return { route, params }
      }
      return { error: pathMatched ? 405 : 404 }
    }
  }
}

/** The identity named by a route's {deviceId} and optional {moduleId} segments. */
export function identityOf (params: Record<string, string>): Identity {
  const deviceId = params['deviceId'] as string
  return params['moduleId'] === undefined ? { deviceId } : { deviceId, moduleId: params['moduleId'] }
}
