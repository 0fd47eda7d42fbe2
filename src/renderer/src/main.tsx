import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App'
import { createHubClient } from './lib/hub-client'
import { createHubStatusStore } from './state/hub-status'
import './styles.css'

const root = document.getElementById('root')
if (root === null) throw new Error('index.html has no #root element')
const client = createHubClient()
createRoot(root).render(
  <StrictMode>
    <App api={client.api} hubStatus={createHubStatusStore(client.api, client.transport === 'ipc' ? 'desktop' : 'browser')} />
  </StrictMode>
)
