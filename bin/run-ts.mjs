#!/usr/bin/env node
// Tiny launcher: registers tsx's ESM loader, then imports the TypeScript entry point given as
// the first argument (e.g. `node bin/run-ts.mjs bench/index.ts --quick`). process.argv is left
// as is, so the script sees its own arguments from process.argv[3] on.
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { register } from 'tsx/esm/api'

const entry = process.argv[2]
if (!entry) {
  console.error('usage: node bin/run-ts.mjs <file.ts> [args...]')
  process.exit(2)
}
register()
await import(pathToFileURL(resolve(entry)).href)
