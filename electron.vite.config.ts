import { fileURLToPath } from 'node:url'
import { svelte } from '@sveltejs/vite-plugin-svelte'
import { defineConfig } from 'electron-vite'
import { cspMeta } from './desktop/src/csp'

const at = (file: string) => fileURLToPath(new URL(file, import.meta.url))

/**
 * The Electron build: main, preload and renderer into desktop/out/, which electron-builder packs
 * with desktop/package.json ("main": "out/main/index.js"). Browser mode builds the same renderer
 * through desktop/vite.config.ts.
 */
export default defineConfig({
  main: {
    build: {
      outDir: at('desktop/out/main'),
      // Everything is bundled (the workspace's @parley/shared is TypeScript source, so it must be)
      // except better-sqlite3-multiple-ciphers (the local store's SQLite, with SQLCipher's
      // encryption), whose native addon is loaded from node_modules, unpacked from the asar.
      externalizeDeps: false,
      rolldownOptions: {
        input: { index: at('desktop/src/main/index.ts') },
        external: ['better-sqlite3-multiple-ciphers'],
      },
    },
  },
  preload: {
    build: {
      outDir: at('desktop/out/preload'),
      externalizeDeps: false,
      rolldownOptions: {
        input: { index: at('desktop/src/preload/index.ts') },
        // A sandboxed preload is a classic script given a `require` for 'electron': CommonJS, one file.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: at('desktop/src/renderer'),
    base: './',
    plugins: [svelte(), cspMeta()],
    build: {
      outDir: at('desktop/out/renderer'),
      reportCompressedSize: false,
      rolldownOptions: { input: at('desktop/src/renderer/index.html') },
    },
  },
})
