#!/usr/bin/env node
// `npm start`: the desktop app where the Electron binary is installed; otherwise (it cannot
// be downloaded on the build machines) the headless hub, `sitehub serve`, with the same
// arguments. Either way this process forwards signals and mirrors the child's exit status.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const OUTPUTS = ['out/main/index.js', 'out/preload/index.cjs', 'out/renderer/index.html']
const SOURCES = ['src', 'electron.vite.config.ts', 'package.json']

/** The Electron executable, found the way node_modules/electron/index.js finds it, or a reason it is missing. */
function findElectron () {
  let pkgDir
  try {
    pkgDir = dirname(createRequire(join(root, 'package.json')).resolve('electron/package.json'))
  } catch {
    return { missing: 'package not installed' }
  }
  const pathFile = join(pkgDir, 'path.txt')
  const executable = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : ''
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH
  const binary = override ? join(override, executable || 'electron') : executable ? join(pkgDir, 'dist', executable) : ''
  if (binary === '' || !existsSync(binary)) return { missing: 'binary missing' }
  return { binary }
}

function newestMtime (path) {
  if (!existsSync(path)) return 0
  const st = statSync(path)
  if (!st.isDirectory()) return st.mtimeMs
  return readdirSync(path).reduce((max, name) => Math.max(max, newestMtime(join(path, name))), st.mtimeMs)
}

function buildIfNeeded () {
  const outputs = OUTPUTS.map(p => join(root, p))
  const built = outputs.every(p => existsSync(p)) ? Math.min(...outputs.map(p => statSync(p).mtimeMs)) : 0
  const changed = Math.max(...SOURCES.map(p => newestMtime(join(root, p))))
  if (built >= changed) return
  // Called through node so it works even where npm left the bin without its executable bit.
  const r = spawnSync(process.execPath, [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: root, stdio: 'inherit' })
  if (r.status !== 0) {
    console.error('sitehub: electron-vite build failed; not starting the desktop app')
    process.exit(r.status ?? 1)
  }
}

function run (command, argv, env) {
  const child = spawn(command, argv, { cwd: root, stdio: 'inherit', env })
  const signals = process.platform === 'win32' ? ['SIGINT', 'SIGTERM'] : ['SIGINT', 'SIGTERM', 'SIGHUP']
  const forward = (signal) => { if (child.exitCode === null && child.signalCode === null) child.kill(signal) }
  for (const s of signals) process.on(s, forward)
  child.on('error', (err) => {
    console.error(`sitehub: could not start ${command}: ${err.message}`)
    process.exit(1)
  })
  child.on('exit', (code, signal) => {
    for (const s of signals) process.off(s, forward)
    // Die of the same signal so whoever started `npm start` sees the child's real status.
    if (signal !== null) process.kill(process.pid, signal)
    else process.exit(code ?? 1)
  })
}

const electron = findElectron()
const noDisplay = process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY
if (electron.binary !== undefined && !noDisplay) {
  buildIfNeeded()
  const env = { ...process.env }
  delete env.ELECTRON_RUN_AS_NODE // would turn Electron into plain Node
  run(electron.binary, [root, ...args], env)
} else {
  const why = electron.binary === undefined
    ? `Electron is not installed on this machine (${electron.missing})`
    : 'No display available (DISPLAY and WAYLAND_DISPLAY are unset)'
  console.error(`${why}; starting the headless hub instead: sitehub serve`)
  run(process.execPath, [join(root, 'bin/sitehub.mjs'), 'serve', ...args], process.env)
}
