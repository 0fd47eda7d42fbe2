import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStore } from './durable-store.js'
import { createMemoryStore } from './memory-store.js'
import { storeContract } from './store.contract.js'

storeContract('memory', () => ({ open: async () => createMemoryStore(), cleanup: async () => {} }))

storeContract('durable', () => {
  let dir = ''
  return {
    open: async () => {
      dir = await mkdtemp(join(tmpdir(), 'sitehub-store-'))
      return await openStore({ dir })
    },
    reopen: async (store) => { await store.close(); return await openStore({ dir }) },
    cleanup: async () => { await rm(dir, { recursive: true, force: true }) }
  }
})
