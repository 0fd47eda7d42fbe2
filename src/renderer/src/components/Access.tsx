// The signed-in role for every screen: `useCan(method)` says whether a control may be used,
// and if not, why (controls the role cannot use are disabled with that reason, or hidden).
import { createContext, useContext, type ReactNode } from 'react'
import type { MethodName, Role } from '../../../shared/contract/index'
import { can } from '../state/session'

const RoleContext = createContext<Role | undefined>(undefined)

export function RoleProvider ({ role, children }: { role: Role | undefined; children: ReactNode }) {
  return <RoleContext.Provider value={role}>{children}</RoleContext.Provider>
}

export function useRole (): Role | undefined {
  return useContext(RoleContext)
}

/** `{ ok, reason }` for the signed-in role and a contract method. */
export function useCan (method: MethodName): { ok: boolean; reason: string } {
  return can(useContext(RoleContext), method)
}

/** Renders its children only when the role may call `method`; otherwise `fallback` (default nothing). */
export function IfCan ({ method, children, fallback }: { method: MethodName; children: ReactNode; fallback?: ReactNode }) {
  return useCan(method).ok ? <>{children}</> : <>{fallback ?? null}</>
}

/** A short note in place of controls the role cannot use. */
export function NotAllowed ({ method, what }: { method: MethodName; what: string }) {
  const c = useCan(method)
  if (c.ok) return null
  return <p className="muted not-allowed" data-testid="not-allowed">{what}: {c.reason.toLowerCase()}.</p>
}
