#!/usr/bin/env node
// Runs a TypeScript entry file under plain Node: `node bin/run-ts.mjs path/to/file.ts [args...]`.
// The file sees its own arguments in process.argv.slice(2).
import { pathToFileURL, fileURLToPath } from 'node:url'
import { resolve } from 'node:path'
import { register } from 'tsx/esm/api'

const [entry, ...rest] = process.argv.slice(2)
if (entry === undefined) {
  process.stderr.write('usage: node bin/run-ts.mjs <file.ts> [args...]\n')
  process.exit(2)
}
register({ tsconfig: fileURLToPath(new URL('../tsconfig.node.json', import.meta.url)) })
process.argv = [process.argv[0] ?? 'node', resolve(entry), ...rest]
await import(pathToFileURL(resolve(entry)).href)
