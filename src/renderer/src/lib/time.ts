/** "12 s ago", "5 min ago", "3 h ago", or the date for old/never. */
export function ago (iso: string | undefined | null, now = Date.now()): string {
  if (iso === undefined || iso === null || iso === '') return 'never'
  const t = Date.parse(iso)
  if (!Number.isFinite(t) || t <= 0) return 'never'
  const s = Math.round((now - t) / 1000)
  if (s < 5) return 'just now'
  if (s < 60) return `${s} s ago`
  if (s < 3600) return `${Math.floor(s / 60)} min ago`
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`
  return new Date(t).toLocaleString()
}
