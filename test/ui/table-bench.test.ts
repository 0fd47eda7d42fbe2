// Bench: the devices table with 10,000 devices in Chromium, scrolled every frame while 1,000
// reported-property updates a second stream into the hub (so the page gets coalesced
// twin.changed batches and refetches the rows every 2 s). Records frame times in
// test-results/ui/table-bench.json; `npm run bench -- --only=ui-table` (bench/ui-table.ts) judges
// them against the targets. In npm test it checks only what holds on any machine (windowing).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { CleanupStack, REPO_ROOT } from '../helpers/hub.js'
import { buildRenderer, CHROMIUM_ARGS, signIn, startUiHub } from './support.js'

const DEVICES = 10_000
const UPDATES_PER_SECOND = 1000
const SECONDS = 6

describe('devices table bench', () => {
  it(`stays smooth at ${DEVICES} rows with ${UPDATES_PER_SECOND} twin updates/s`, async () => {
    const suite = new CleanupStack()
    try {
      const env = await startUiHub(suite.defer, { staticDir: buildRenderer(suite.defer) })
      for (let i = 0; i < DEVICES; i += 500) {
        await Promise.all(Array.from({ length: Math.min(500, DEVICES - i) }, (_, k) => env.hub.hub.registry.create({ deviceId: `dev-${String(i + k).padStart(5, '0')}` })))
      }
      const userDataDir = mkdtempSync(join(tmpdir(), 'sitehub-chromium-'))
      suite.defer(() => { rmSync(userDataDir, { recursive: true, force: true }) })
      const ctx = await chromium.launchPersistentContext(userDataDir, { executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, viewport: { width: 1366, height: 768 } })
      suite.defer(() => ctx.close())
      const page = ctx.pages()[0] ?? await ctx.newPage()
      await signIn(page, env)
      await page.goto(`${env.ui.url}#/devices`)
      await page.locator('[data-testid="device-total"]', { hasText: String(DEVICES) }).waitFor({ timeout: 60_000 })

      // In the page: scroll the table every frame and record each frame's duration.
      await page.evaluate(`(() => {
        const el = document.querySelector('[data-testid="device-table"]')
        window.__frames = []
        window.__rows = 0
        let last = performance.now()
        const step = (t) => {
          window.__frames.push(t - last); last = t
          el.scrollTop = (el.scrollTop + 90) % (el.scrollHeight - el.clientHeight)
          window.__rows = Math.max(window.__rows, document.querySelectorAll('[data-testid="device-row"]').length)
          if (!window.__stop) requestAnimationFrame(step)
        }
        requestAnimationFrame(step)
      })()`)

      // Meanwhile: 1,000 reported patches a second, spread over the fleet.
      const loadBefore = loadavg()[0] ?? 0
      const started = Date.now()
      let sent = 0
      while (Date.now() - started < SECONDS * 1000) {
        const due = Math.floor(((Date.now() - started) / 1000) * UPDATES_PER_SECOND)
        const batch: Array<Promise<number>> = []
        for (; sent < due; sent++) batch.push(env.hub.hub.twins.patchReported({ deviceId: `dev-${String((sent * 7919) % DEVICES).padStart(5, '0')}` }, { temperature: sent % 90, state: 'running' }))
        await Promise.all(batch)
        await new Promise(r => setTimeout(r, 10))
      }
      const elapsed = (Date.now() - started) / 1000
      const { frames, rows } = await page.evaluate('(() => { window.__stop = true; return { frames: window.__frames.slice(5), rows: window.__rows } })()') as { frames: number[]; rows: number }
      const sorted = [...frames].sort((a, b) => a - b)
      const pct = (p: number): number => Math.round((sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0) * 10) / 10
      const result = {
        devices: DEVICES, updatesPerSecond: Math.round(sent / elapsed), seconds: Math.round(elapsed * 10) / 10, frames: frames.length,
        fps: Math.round(frames.length / elapsed), p50Ms: pct(0.5), p95Ms: pct(0.95), p99Ms: pct(0.99), maxMs: pct(1),
        over50Ms: frames.filter(f => f > 50).length, maxRowsInDom: rows, chromium: '/usr/bin/chromium --disable-gpu', viewport: '1366x768',
        machine: { cpus: cpus().length, loadavg1m: [Math.round(loadBefore * 100) / 100, Math.round((loadavg()[0] ?? 0) * 100) / 100] },
        at: new Date().toISOString()
      }
      mkdirSync(join(REPO_ROOT, 'test-results', 'ui'), { recursive: true })
      writeFileSync(join(REPO_ROOT, 'test-results', 'ui', 'table-bench.json'), JSON.stringify(result, null, 2))
      console.log('devices table bench', result)
      // Frame times and the update rate are judged by `npm run bench` (bench/ui-table.ts), not
      // here: a shared, noisy machine must not fail the suite. What must hold on any machine:
      expect(frames.length).toBeGreaterThan(0)
      expect(rows).toBeLessThan(60) // windowed: never the whole table in the DOM
    } finally {
      await suite.run()
    }
  }, 180_000)
})
