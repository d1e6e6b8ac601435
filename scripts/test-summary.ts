import { existsSync } from 'node:fs'
import type { Reporter, TestModule } from 'vitest/node'
import { CHROMIUM } from '../desktop/test/e2e/chromium'

/**
 * Ends a test run with one plain line, `tests: N passed, N failed, N skipped`, and names the
 * suites that did not run because a service was not configured (DATABASE_URL, REDIS_URL) or
 * Chromium is not installed.
 */
export default class TestSummary implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const count = { passed: 0, failed: 0, skipped: 0 }
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state
        if (state === 'passed') count.passed += 1
        else if (state === 'failed') count.failed += 1
        else count.skipped += 1
      }
    }
    const missing: string[] = []
    if (!process.env.DATABASE_URL) missing.push('PostgreSQL suites (set DATABASE_URL to run them)')
    if (!process.env.DATABASE_URL || !process.env.REDIS_URL) {
      missing.push('two-relay suite (set DATABASE_URL and REDIS_URL to run it)')
    }
    if (!existsSync(CHROMIUM)) {
      missing.push("browser scenarios (install Debian's chromium, or set CHROMIUM_PATH, to run them)")
    } else if (!existsSync('desktop/dist/renderer/index.html')) {
      missing.push('browser scenarios (run npm run build:renderer first)')
    }
    if (missing.length > 0) console.log(`\nskipped: ${missing.join('; ')}`)
    console.log(`tests: ${count.passed} passed, ${count.failed} failed, ${count.skipped} skipped`)
  }
}
