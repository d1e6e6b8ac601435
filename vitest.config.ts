import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['*/test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Each file builds its own relays and databases; two workers match the two cores.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default', './scripts/test-summary.ts'],
  },
})
