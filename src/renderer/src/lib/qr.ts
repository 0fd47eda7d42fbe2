// QR codes as SVG path data (pure: no DOM). qrcode-generator computes the modules; we draw
// them ourselves so the SVG is React elements, not injected markup, under the strict CSP.
import qrcode from 'qrcode-generator'

export interface QrShape {
  /** Modules per side, without the quiet zone. */
  modules: number
  /** Side of the viewBox: modules + 2 * margin. */
  size: number
  /** One square per dark module, in viewBox units. */
  path: string
  /** Dark modules, row by row (for tests that rasterize the code). */
  dark: (row: number, col: number) => boolean
}

/**
 * Error correction M (15 %) keeps a connection string (~150 characters) at a size a phone or
 * a handheld scanner reads off a screen from half a metre; margin 4 is the standard quiet zone.
 */
export function qrShape (text: string, margin = 4): QrShape {
  const qr = qrcode(0, 'M')
  qr.addData(text, 'Byte')
  qr.make()
  const n = qr.getModuleCount()
  const parts: string[] = []
  for (let r = 0; r < n; r++) {
    // runs of dark modules on a row become one rectangle: a shorter path, no hairline seams
    let c = 0
    while (c < n) {
      if (!qr.isDark(r, c)) { c++; continue }
      const start = c
      while (c < n && qr.isDark(r, c)) c++
      parts.push(`M${start + margin} ${r + margin}h${c - start}v1h${start - c}z`)
    }
  }
  return { modules: n, size: n + 2 * margin, path: parts.join(''), dark: (row, col) => qr.isDark(row, col) }
}
