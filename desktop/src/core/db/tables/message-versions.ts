import type { LocalDb } from '../local-db'

// The `message_versions` table: a message's earlier texts, as the relay last told them.

export function saveVersions(
  db: LocalDb,
  serverId: number,
  versions: readonly { text: string; writtenAt: number; replacedAt: number }[],
): void {
  db.transaction(() => {
    db.prepare('delete from message_versions where message_server_id = ?').run(serverId)
    const insert = db.prepare(
      'insert into message_versions (message_server_id, text, written_at, replaced_at) values (?, ?, ?, ?)',
    )
    for (const v of versions) insert.run(serverId, v.text, v.writtenAt, v.replacedAt)
  })
}

export function cachedVersions(db: LocalDb, serverId: number) {
  return db
    .all(
      db.kysely
        .selectFrom('message_versions')
        .select(['text', 'written_at', 'replaced_at'])
        .where('message_server_id', '=', serverId)
        .orderBy('written_at'),
    )
    .map((v) => ({ text: v.text, writtenAt: v.written_at, replacedAt: v.replaced_at }))
}
