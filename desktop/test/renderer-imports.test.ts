import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

/**
 * What Biome's noRestrictedImports cannot say (it treats `import type` like any import): the
 * renderer takes only types from @parley/shared's root, whose values are the schemas and their
 * libraries (typebox, ajv); values come from the subpaths made for the page (/limits, /display,
 * /sending, /sniff). The other boundaries (electron, Node built-ins, the bridge outside the
 * managers) are Biome rules in biome.json.
 */
const renderer = path.join(import.meta.dirname, '../src/renderer')
const IMPORT_FROM_ROOT = /\b(import|export)\s+(type\s+)?([^;'"]*?)\s*from\s*['"]@parley\/shared['"]/g

/** The names a file takes from the root as values (not `type`), as `file: name`. */
function valueImportsFromSharedRoot(file: string, source: string): string[] {
  const found: string[] = []
  for (const match of source.matchAll(IMPORT_FROM_ROOT)) {
    if (match[2]) continue
    const clause = match[3] ?? ''
    const named = clause.match(/\{([^}]*)\}/)?.[1]
    const rest = clause
      .replace(/\{[^}]*\}/, '')
      .replace(/,/g, ' ')
      .trim()
    if (rest) found.push(`${file}: ${rest}`)
    for (const name of (named ?? '').split(',').map((n) => n.trim())) {
      if (name && !name.startsWith('type ')) found.push(`${file}: ${name}`)
    }
  }
  return found
}

function sources(): { file: string; source: string }[] {
  return readdirSync(renderer, { recursive: true, encoding: 'utf8' })
    .filter((file) => /\.(ts|svelte)$/.test(file))
    .map((file) => ({ file, source: readFileSync(path.join(renderer, file), 'utf8') }))
}

describe('the renderer and @parley/shared', () => {
  it('takes only types from the root of @parley/shared', () => {
    const files = sources()
    expect(files.length).toBeGreaterThan(20)
    expect(files.flatMap(({ file, source }) => valueImportsFromSharedRoot(file, source))).toEqual([])
  })

  it('the check sees a value among type imports, a default import and a re-export', () => {
    const source = [
      "import type { MessageView } from '@parley/shared'",
      "import { type BridgeError, validate } from '@parley/shared'",
      "import shared from '@parley/shared'",
      "export { Strict } from '@parley/shared'",
      "import { MAX_MESSAGE_LENGTH } from '@parley/shared/limits'",
    ].join('\n')
    expect(valueImportsFromSharedRoot('x.ts', source)).toEqual([
      'x.ts: validate',
      'x.ts: shared',
      'x.ts: Strict',
    ])
  })
})
