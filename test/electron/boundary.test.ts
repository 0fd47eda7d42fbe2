// Static proof of the layering rules: the hub core never reaches Electron or the UI layers,
// and src/shared stays leaf code that main, preload and renderer can all import.
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '../..')

function tsFiles (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter(e => e.isFile() && /\.(ts|tsx|mts|cts)$/.test(e.name))
    .map(e => join(e.parentPath, e.name))
}

/** Every module specifier: import/export ... from, side-effect import, import(), require(). */
function specifiers (source: string): string[] {
  const out: string[] = []
  const patterns = [
    /\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    // a side-effect import starts a statement (not `'devices.import': 'admin'` in an object)
    /(?:^|;)\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g,
    /\brequire\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g
  ]
  for (const re of patterns) for (const m of source.matchAll(re)) if (m[1] !== undefined) out.push(m[1])
  return out
}

/** `forbidden` sees the specifier and, for relative ones, the target's path from the repo root. */
function violations (dir: string, forbidden: (spec: string, target: string | undefined) => boolean): string[] {
  return tsFiles(dir).flatMap(file =>
    specifiers(readFileSync(file, 'utf8'))
      .filter(spec => forbidden(spec, spec.startsWith('.') ? relative(root, resolve(dirname(file), spec)) : undefined))
      .map(spec => `${relative(root, file)} imports '${spec}'`))
}

describe('layer boundaries', () => {
  it('finds module specifiers in every import form (self-check of the scanner)', () => {
    const src = [
      "import { app } from 'electron'", "import type { X } from \"electron/main\"", "export * from './a.js'",
      "import 'electron'", "const e = await import('electron')", "const r = require('electron')"
    ].join('\n')
    expect(specifiers(src).sort()).toEqual(['./a.js', 'electron', 'electron', 'electron', 'electron', 'electron/main'].sort())
  })

  it('src/main/hub never imports electron, the shell, IPC, preload or renderer', () => {
    // Bare specifiers: anything but electron. Relative ones must stay inside the hub (or shared).
    const isForbidden = (spec: string, target: string | undefined): boolean => target === undefined
      ? spec === 'electron' || spec.startsWith('electron/')
      : !target.startsWith('src/main/hub/') && !target.startsWith('src/shared/')
    const files = tsFiles(join(root, 'src/main/hub'))
    expect(files.length).toBeGreaterThan(0)
    expect(violations(join(root, 'src/main/hub'), isForbidden)).toEqual([])
  })

  it('src/shared imports no node:*, electron or other layers', () => {
    const isForbidden = (_spec: string, target: string | undefined): boolean =>
      target === undefined || !target.startsWith('src/shared/')
    expect(violations(join(root, 'src/shared'), isForbidden)).toEqual([])
  })

  it('the preload imports only electron and src/shared', () => {
    const isForbidden = (spec: string, target: string | undefined): boolean =>
      target === undefined ? spec !== 'electron' : !target.startsWith('src/shared/')
    expect(violations(join(root, 'src/preload'), isForbidden)).toEqual([])
  })
})
