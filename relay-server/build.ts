/**
 * Builds the relay to JavaScript (`npm run build`): relay-server/dist/server.js and
 * dist/admin-cli.js, which `parley-relay` (bin/parley-relay.js), the systemd unit and the
 * Dockerfile run. esbuild bundles the relay's own code and the shared protocol package (both
 * TypeScript) into one ES module each, and leaves every npm dependency an import of its own, so
 * native addons (better-sqlite3, argon2, sharp) and optional ones (pg, ioredis) load from
 * node_modules as usual, and only when the code reaches them.
 *
 * Why bundle rather than `tsc` emit: the relay imports `@parley/shared`, whose package exports point
 * at TypeScript sources; a bundle needs no second build of that package and no loader at run time,
 * and starts from one file (no TypeScript transform, fewer module look-ups). The source map keeps
 * stack traces pointing at src/.
 */
import { readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const relay = path.dirname(fileURLToPath(import.meta.url))
const root = path.join(relay, '..')

/** Everything the relay lists as a dependency stays external; `@parley/*` is bundled. */
function externals(): string[] {
  const pkg = JSON.parse(readFileSync(path.join(relay, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>
  }
  const names = Object.keys(pkg.dependencies ?? {}).filter((name) => !name.startsWith('@parley/'))
  // The shared package's own dependencies (TypeBox, Ajv) are resolved from node_modules too.
  const shared = JSON.parse(readFileSync(path.join(root, 'shared', 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>
  }
  return [...names, ...Object.keys(shared.dependencies ?? {})].flatMap((name) => [name, `${name}/*`])
}

export async function buildRelay(outdir = path.join(relay, 'dist')): Promise<string[]> {
  // Chunk names carry content hashes: an earlier build's chunks would otherwise stay beside these.
  rmSync(outdir, { recursive: true, force: true })
  const result = await build({
    absWorkingDir: relay,
    entryPoints: { server: 'src/server.ts', 'admin-cli': 'src/admin/cli.ts' },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    external: externals(),
    sourcemap: true,
    // Shared and lazily imported code becomes chunks beside the entries (not in a subfolder: the
    // relay finds its package.json as '../package.json' from whichever file holds version.ts).
    chunkNames: '[name]-[hash]',
    logLevel: 'warning',
    metafile: true,
  })
  return Object.keys(result.metafile.outputs).filter((file) => file.endsWith('.js'))
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const started = performance.now()
  const files = await buildRelay()
  console.log(
    `relay built in ${Math.round(performance.now() - started)} ms: ${files.length} files in relay-server/dist`,
  )
}
