// The dashboard's build: `npm run build:web` writes web/dist, which the node serves at `/`
// (src/modules/web-app). `npx vite --config web/vite.config.mts` serves it with hot reload,
// proxying the API to a node on :3000.
import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

const api = process.env.API_ORIGIN ?? 'http://127.0.0.1:3000';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [preact()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // the budget check (test/browser) gzips what the browser actually loads
    reportCompressedSize: true,
  },
  server: {
    proxy: {
      '/api': api,
      '/socket.io': { target: api, ws: true },
    },
  },
});
