import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App'
import { desktopHub } from './lib/hub-client'
import { createHubStatusStore } from './state/hub-status'
import './styles.css'

const root = document.getElementById('root')
if (root === null) throw new Error('index.html has no #root element')
createRoot(root).render(
  <StrictMode>
    <App hubStatus={createHubStatusStore(desktopHub())} />
  </StrictMode>
)
