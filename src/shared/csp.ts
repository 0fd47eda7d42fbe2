// The renderer's Content-Security-Policy, in one place: the shell sends it as a response
// header and the renderer build writes it into index.html as a meta tag.

const STRICT: Record<string, string> = {
  'default-src': "'none'",
  'script-src': "'self'",
  'style-src': "'self'",
  'img-src': "'self' data:",
  'font-src': "'self'",
  'connect-src': "'self'",
  'object-src': "'none'",
  'base-uri': "'none'",
  'form-action': "'none'",
  'frame-ancestors': "'none'"
}

// Vite's dev server injects inline scripts (React refresh preamble) and <style> tags and
// talks HMR over a WebSocket; only the dev build gets these relaxations.
const DEV_EXTRA: Record<string, string> = {
  'script-src': "'unsafe-inline'",
  'style-src': "'unsafe-inline'",
  'connect-src': 'ws: http://localhost:* http://127.0.0.1:*'
}

// Browsers ignore (and warn about) these when the policy arrives in a <meta> tag.
const HEADER_ONLY = new Set(['frame-ancestors'])

export function contentSecurityPolicy (opts: { dev?: boolean; meta?: boolean } = {}): string {
  return Object.entries(STRICT)
    .filter(([directive]) => opts.meta !== true || !HEADER_ONLY.has(directive))
    .map(([directive, value]) => {
      const extra = opts.dev === true ? DEV_EXTRA[directive] : undefined
      return `${directive} ${extra === undefined ? value : `${value} ${extra}`}`
    })
    .join('; ')
}
