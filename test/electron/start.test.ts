// scripts/start.mjs (`npm start`): Electron when its binary exists, otherwise `sitehub serve`.
import { spawn, type ChildProcess } from 'node:child_process'
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'

const repo = join(import.meta.dirname, '../..')
const FALLBACK = 'Electron is not installed on this machine (binary missing); starting the headless hub instead: sitehub serve'

interface Run { child: ChildProcess; stdout: () => string; stderr: () => string; exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> }

function start (root: string, args: string[], env: NodeJS.ProcessEnv): Run {
  const child = spawn(process.execPath, [join(root, 'scripts/start.mjs'), ...args], { cwd: root, env })
  let out = ''
  let err = ''
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { err += d.toString() })
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(resolve => {
    child.on('exit', (code, signal) => { resolve({ code, signal }) })
  })
  onTestFinished(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  return { child, stdout: () => out, stderr: () => err, exit }
}

function waitFor (read: () => string, pattern: RegExp, child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (pattern.test(read())) { cleanup(); resolve() }
    }
    const onExit = (): void => { setImmediate(() => { check(); cleanup(); reject(new Error(`exited before ${String(pattern)}: ${read()}`)) }) }
    const cleanup = (): void => {
      child.stdout?.off('data', check); child.stderr?.off('data', check); child.off('exit', onExit)
    }
    child.stdout?.on('data', check)
    child.stderr?.on('data', check)
    child.on('exit', onExit)
    check()
  })
}

async function tempDir (prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  onTestFinished(() => rm(dir, { recursive: true, force: true }))
  return dir
}

const baseEnv = (): NodeJS.ProcessEnv => {
  const env = { ...process.env }
  delete env['ELECTRON_OVERRIDE_DIST_PATH']
  return env
}

/** A throw-away project with the real start.mjs and fakes for `sitehub` (and optionally Electron). */
async function fakeProject (opts: { electron?: boolean } = {}): Promise<string> {
  const root = await tempDir('sitehub-start-')
  await mkdir(join(root, 'scripts'))
  await mkdir(join(root, 'bin'))
  await copyFile(join(repo, 'scripts/start.mjs'), join(root, 'scripts/start.mjs'))
  await writeFile(join(root, 'package.json'), JSON.stringify({ name: 'fake', type: 'module', main: 'out/main/index.js' }))
  await writeFile(join(root, 'bin/sitehub.mjs'), [
    "if (process.argv.includes('--wait')) {",
    "  process.on('SIGTERM', () => { console.log('child got SIGTERM'); process.exit(42) })",
    "  setInterval(() => {}, 1000)",
    "}",
    "console.log(JSON.stringify({ argv: process.argv.slice(2) }))",
    "if (!process.argv.includes('--wait')) process.exit(3)"
  ].join('\n'))
  if (opts.electron === true) {
    const pkg = join(root, 'node_modules/electron')
    await mkdir(join(pkg, 'dist'), { recursive: true })
    await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: 'electron', version: '0.0.0' }))
    await writeFile(join(pkg, 'path.txt'), 'electron')
    await writeFile(join(pkg, 'dist/electron'), '#!/bin/sh\necho "fake-electron run-as-node=[$ELECTRON_RUN_AS_NODE] $*"\nexit 5\n')
    await chmod(join(pkg, 'dist/electron'), 0o755)
    // A fake electron-vite that "builds" by writing the three outputs.
    const ev = join(root, 'node_modules/electron-vite/bin')
    await mkdir(ev, { recursive: true })
    await writeFile(join(ev, 'electron-vite.js'), [
      "import { mkdirSync, writeFileSync } from 'node:fs'",
      "for (const f of ['out/main/index.js', 'out/preload/index.cjs', 'out/renderer/index.html']) {",
      "  mkdirSync(f.slice(0, f.lastIndexOf('/')), { recursive: true }); writeFileSync(f, '')",
      "}",
      "console.log('fake build ' + process.argv.slice(2).join(' '))"
    ].join('\n'))
  }
  return root
}

describe('npm start', () => {
  it('prints the fallback line first when the Electron binary is missing (this repo)', async () => {
    const dataDir = await tempDir('sitehub-data-')
    const noBinary = await tempDir('sitehub-no-electron-')
    const run = start(repo, ['--help', '--data-dir', dataDir, '--bind', '127.0.0.1', '--mqtts-port', '0', '--https-port', '0'],
      { ...baseEnv(), ELECTRON_OVERRIDE_DIST_PATH: noBinary })
    await waitFor(run.stderr, /\n/, run.child)
    // Stop `sitehub serve` if --help did not already end it; only the announcement matters here.
    if (run.child.exitCode === null) run.child.kill('SIGTERM')
    await run.exit
    expect(run.stderr().split('\n')[0]).toBe(FALLBACK)
  })

  it('falls back to `sitehub serve`, passing arguments and the exit code through', async () => {
    const root = await fakeProject()
    const run = start(root, ['--data-dir', '/tmp/x', '--bind', '127.0.0.1'], baseEnv())
    const { code } = await run.exit
    expect(run.stderr().trim().split('\n')).toEqual([
      'Electron is not installed on this machine (package not installed); starting the headless hub instead: sitehub serve'
    ])
    expect(JSON.parse(run.stdout())).toEqual({ argv: ['serve', '--data-dir', '/tmp/x', '--bind', '127.0.0.1'] })
    expect(code).toBe(3)
  })

  it('forwards SIGTERM to the hub and exits with its code', async () => {
    const root = await fakeProject()
    const run = start(root, ['--wait'], baseEnv())
    await waitFor(run.stdout, /"argv"/, run.child)
    run.child.kill('SIGTERM')
    const { code } = await run.exit
    expect(run.stdout()).toContain('child got SIGTERM')
    expect(code).toBe(42)
  })

  it('launches Electron on the app, building first when the output is missing', async () => {
    const root = await fakeProject({ electron: true })
    const run = start(root, ['--data-dir', '/tmp/x'], { ...baseEnv(), DISPLAY: ':0', ELECTRON_RUN_AS_NODE: '1' })
    const { code } = await run.exit
    expect(run.stderr()).toBe('')
    expect(run.stdout()).toBe(`fake build build\nfake-electron run-as-node=[] ${root} --data-dir /tmp/x\n`)
    expect(code).toBe(5)

    // Second start: the outputs are newer than the sources, so no rebuild.
    const again = start(root, [], { ...baseEnv(), DISPLAY: ':0' })
    await again.exit
    expect(again.stdout()).toBe(`fake-electron run-as-node=[] ${root}\n`)
  })
})
