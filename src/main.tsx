/**
 * Entry point. Paints the page first; then connects the store to the engine worker, which reads
 * the stored runs and, when the browser is idle, chooses a backend (no weights are fetched until
 * a run starts). The setup lives in the URL hash, both ways.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { useLab } from './store/store';
import { connectEngine, loadSetupFromLocation, startEngine, writeSetupToLocation } from './ui/actions';
import { installTestApi } from './ui/testApi';
import { installEngineAutomation } from './worker/automation';
import { registerServiceWorker } from './pwa/register';
import { App } from './ui/App';
import './ui/styles.css';

loadSetupFromLocation();
writeSetupToLocation(useLab.getState().setup, useLab.getState());
useLab.subscribe((s, prev) => {
  if (s.setup !== prev.setup || s.presentation !== prev.presentation) writeSetupToLocation(s.setup, s);
});
installTestApi();
installEngineAutomation();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

window.addEventListener('hashchange', loadSetupFromLocation);
connectEngine();
const idle = (window as { requestIdleCallback?: (cb: () => void) => void }).requestIdleCallback ?? ((cb: () => void) => setTimeout(cb, 50));
idle(() => startEngine());
// The offline copy (service worker) installs after the page has loaded: src/pwa/register.ts.
registerServiceWorker();
