import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App'
import { createHubClient } from './lib/hub-client'
import { createHubStatusStore } from './state/hub-status'
import { createSessionStore } from './state/session'
import './styles.css'

const root = document.getElementById('root')
if (root === null) throw new Error('index.html has no #root element')
const client = createHubClient()
// Every call of the screens goes through the session (it adds the token).
const session = client.api === undefined ? undefined : createSessionStore(client.api, window.sessionStorage)
createRoot(root).render(
  <StrictMode>
    <App api={session?.api} session={session} hubStatus={createHubStatusStore(session?.api, client.transport === 'ipc' ? 'desktop' : 'browser')} />
  </StrictMode>
)
