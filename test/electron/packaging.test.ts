// electron-builder configuration (packages cannot be built here: no Electron download).
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const repo = join(import.meta.dirname, '../..')

describe('electron-builder configuration', () => {
  it('targets Windows NSIS and Linux AppImage + deb, packs the built app, never rebuilds natives', () => {
    const cfg = JSON.parse(readFileSync(join(repo, 'electron-builder.json'), 'utf8')) as {
      win: { target: Array<{ target: string }> }; linux: { target: Array<{ target: string }> }; files: string[]; npmRebuild: boolean; asarUnpack: string[]; extraMetadata: { main: string }; extraResources: unknown[]
    }
    expect(cfg.win.target.map(t => t.target)).toEqual(['nsis'])
    expect(cfg.linux.target.map(t => t.target).sort()).toEqual(['AppImage', 'deb'])
    expect(cfg.files).toContain('out/**/*')
    // serialport ships N-API prebuilds; a rebuild would need Electron headers (STYLE 6)
    expect(cfg.npmRebuild).toBe(false)
    expect(cfg.asarUnpack.some(p => p.includes('@serialport/bindings-cpp'))).toBe(true)
    // the built-in Modbus profiles ship next to app.asar (src/main/hub/serial/paths.ts)
    expect(cfg.extraResources).toEqual([expect.objectContaining({ from: 'resources', to: '.' })])
    expect(existsSync(join(repo, 'resources', 'modbus-profiles'))).toBe(true)
    // one config only: electron-builder would silently pick one of several
    expect(readdirSync(repo).filter(f => /^electron-builder\./.test(f))).toEqual(['electron-builder.json'])
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { main: string }
    expect(`./${cfg.extraMetadata.main}`).toBe(pkg.main)
  })
})
