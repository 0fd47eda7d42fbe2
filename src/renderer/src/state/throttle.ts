// At most one run per `ms`, trailing: bursts of events become one refetch.
export function throttle (fn: () => void, ms: number): { (): void; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined
  let last = 0
  const run = (): void => { timer = undefined; last = Date.now(); fn() }
  const t = (): void => {
    if (timer !== undefined) return
    const wait = Math.max(0, last + ms - Date.now())
    timer = setTimeout(run, wait)
  }
  t.cancel = (): void => { if (timer !== undefined) clearTimeout(timer); timer = undefined }
  return t
}
