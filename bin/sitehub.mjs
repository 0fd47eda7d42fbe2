#!/usr/bin/env node
// The `sitehub` command. Runs the TypeScript sources under plain Node (no build step) by
// registering tsx's ESM loader, then hands over to src/main/cli.
import { fileURLToPath } from 'node:url'
import { register } from 'tsx/esm/api'

// The repo's own tsconfig, whatever the working directory (tsx would otherwise look in cwd).
register({ tsconfig: fileURLToPath(new URL('../tsconfig.node.json', import.meta.url)) })
const { main } = await import('../src/main/cli/index.ts')
const code = await main(process.argv.slice(2))
// Exit once stdout/stderr are flushed: a lingering handle must not keep a finished command alive.
process.stdout.write('', () => { process.stderr.write('', () => { process.exit(code) }) })
