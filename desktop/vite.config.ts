import { fileURLToPath } from 'node:url'
import { svelte } from '@sveltejs/vite-plugin-svelte'
import { defineConfig } from 'vite'
import { cspMeta, hostSockets } from './src/csp.ts'

/**
 * The renderer's build for browser mode (the host serves dist/renderer). Electron builds the same
 * renderer through electron.vite.config.ts at the root.
 */
export default defineConfig({
  root: fileURLToPath(new URL('src/renderer', import.meta.url)),
  base: './',
  plugins: [svelte(), cspMeta({ connect: hostSockets('*') })],
  build: {
    outDir: fileURLToPath(new URL('dist/renderer', import.meta.url)),
    emptyOutDir: true,
    target: 'chrome120',
    reportCompressedSize: false,
  },
})
