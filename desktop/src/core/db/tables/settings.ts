import { defaultSettings, Settings, validate } from '@parley/shared'
import type { LocalDb } from '../local-db'

// The `settings` table: one JSON value per key, over the defaults.

/** Stored settings over the defaults; a value a newer or older build wrote that no longer fits is ignored. */
export function settingsOf(db: LocalDb): Settings {
  const merged: Record<string, unknown> = { ...defaultSettings }
  for (const row of db.all(db.kysely.selectFrom('settings').selectAll())) {
    if (!Object.hasOwn(defaultSettings, row.key)) continue
    const candidate = { ...merged, [row.key]: JSON.parse(row.value) as unknown }
    if (validate(Settings, candidate).ok) merged[row.key] = candidate[row.key]
  }
  return merged as Settings
}

export function saveSettings(db: LocalDb, changes: Partial<Settings>): Settings {
  db.transaction(() => {
    const upsert = db.prepare(
      'insert into settings (key, value) values (?, ?) on conflict (key) do update set value = excluded.value',
    )
    for (const [key, value] of Object.entries(changes)) {
      if (value !== undefined) upsert.run(key, JSON.stringify(value))
    }
  })
  return settingsOf(db)
}
