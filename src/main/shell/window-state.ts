// Remembers the main window's bounds in a small JSON file in userData. Plain Node only.
import { readFile, writeFile, rename } from 'node:fs/promises'

export interface WindowBounds {
  x: number
  y: number
  width: number
  height: number
  maximized: boolean
}

interface Area { x: number; y: number; width: number; height: number }

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v)

/** Validates stored JSON; anything malformed or too small is ignored (undefined). */
export function parseBounds (raw: unknown): WindowBounds | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined
  const r = raw as Record<string, unknown>
  const { x, y, width, height } = r
  if (!isInt(x) || !isInt(y) || !isInt(width) || !isInt(height)) return undefined
  if (width < 200 || height < 150) return undefined
  return { x, y, width, height, maximized: r['maximized'] === true }
}

/** True when at least a 100x50 corner of the window lands on one of the displays. */
export function isVisibleOn (b: WindowBounds, displays: Area[]): boolean {
  return displays.some(d =>
    Math.min(b.x + b.width, d.x + d.width) - Math.max(b.x, d.x) >= 100 &&
    Math.min(b.y + b.height, d.y + d.height) - Math.max(b.y, d.y) >= 50)
}

export async function loadBounds (file: string): Promise<WindowBounds | undefined> {
  try {
    return parseBounds(JSON.parse(await readFile(file, 'utf8')))
  } catch {
    return undefined // first start, or a corrupt file: fall back to defaults
  }
}

export async function saveBounds (file: string, bounds: WindowBounds): Promise<void> {
  // Write-then-rename so a crash mid-write never leaves a truncated file.
  const tmp = `${file}.tmp`
  await writeFile(tmp, JSON.stringify(bounds))
  await rename(tmp, file)
}
