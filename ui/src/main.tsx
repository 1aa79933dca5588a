// The dashboard's entry: one BatonProvider on the page's own origin (the
// daemon serves this page and authenticates it by its cookie), and the app.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BatonProvider } from '../../src/react/index.ts';
import { App } from './App.tsx';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <BatonProvider>
      <App />
    </BatonProvider>
  </StrictMode>,
);
