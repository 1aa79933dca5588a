// Builds the dashboard into dist/ui, which the daemon serves at /ui/ (scripts/build.ts runs this).
// The daemon's Content-Security-Policy allows scripts and styles from 'self' only, so nothing may
// be inlined into index.html: no module-preload polyfill script, and CSS emitted as a file.
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: '/ui/',
  plugins: [react()],
  // The dashboard reads nothing from the environment: no VITE_* variables leak into the bundle.
  envPrefix: 'BATON_UI_PUBLIC_',
  build: {
    outDir: `${here}../dist/ui`,
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    cssCodeSplit: false,
    // Small assets would otherwise become data: URLs inside the CSS or JS; keep every asset a file.
    assetsInlineLimit: 0,
    sourcemap: false,
    target: 'es2022',
    reportCompressedSize: true,
  },
});
