import { resolve } from 'node:path'
import { defineConfig } from 'electron-vite'
import react from '@vitejs/plugin-react'
import type { Plugin } from 'vite'
import { contentSecurityPolicy } from './src/shared/csp'

// Writes the CSP meta tag into index.html (the shell also sends it as a header). The dev
// server gets the relaxed variant its inline preamble and HMR socket need.
function cspMeta (): Plugin {
  let dev = false
  return {
    name: 'sitehub:csp-meta',
    configResolved (config) { dev = config.command === 'serve' },
    transformIndexHtml: () => [{
      tag: 'meta',
      attrs: { 'http-equiv': 'Content-Security-Policy', content: contentSecurityPolicy({ dev, meta: true }) },
      injectTo: 'head-prepend'
    }]
  }
}

export default defineConfig({
  // ESM main (lowdb is ESM-only); package dependencies stay external and load from node_modules.
  main: {
    build: {
      externalizeDeps: true,
      rolldownOptions: { input: { index: resolve('src/main/index.ts') } }
    }
  },
  // A sandboxed preload must be one CommonJS file that requires only 'electron': force CJS
  // (the package is "type": "module", which would otherwise give index.mjs) and bundle
  // whatever it imports.
  preload: {
    build: {
      externalizeDeps: false,
      rolldownOptions: {
        input: { index: resolve('src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs', codeSplitting: false }
      }
    }
  },
  renderer: {
    root: resolve('src/renderer'),
    build: {
      rolldownOptions: { input: { index: resolve('src/renderer/index.html') } }
    },
    plugins: [react(), cspMeta()]
  }
})
