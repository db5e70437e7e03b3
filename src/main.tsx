/**
 * Entry point. Paints the page first; then reads stored runs and starts the engine worker
 * (which only chooses a backend: no weights are fetched until a run starts).
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { loadSetupFromLocation, restoreRuns, startEngine } from './store/actions';
import { installTestApi } from './store/testApi';
import { installEngineAutomation } from './worker/automation';
import { registerServiceWorker } from './pwa/register';
import { App } from './ui/App';
import './ui/styles.css';

loadSetupFromLocation();
installTestApi();
installEngineAutomation();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

window.addEventListener('hashchange', loadSetupFromLocation);
void restoreRuns();
const idle = (window as { requestIdleCallback?: (cb: () => void) => void }).requestIdleCallback ?? ((cb: () => void) => setTimeout(cb, 50));
idle(() => startEngine());
// The offline copy (service worker) installs after the page has loaded: src/pwa/register.ts.
registerServiceWorker();
