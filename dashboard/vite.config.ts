import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

const gateway = process.env.TRIBUTARY_GATEWAY_URL ?? 'http://127.0.0.1:3000';

/**
 * Build: `npx vite build --config dashboard/vite.config.ts` (from the repository root) writes
 * dashboard/dist, which the gateway serves at `/`. Dev: `npx vite --config dashboard/vite.config.ts`
 * serves the sources with hot reload and proxies the API and the socket to a running gateway.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [svelte()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // chart.js and socket.io-client are most of the bundle; one chunk keeps the first load simple
    chunkSizeWarningLimit: 600,
  },
  server: {
    host: '127.0.0.1',
    proxy: {
      '/api': gateway,
      '/socket.io': { target: gateway, ws: true },
    },
  },
});
