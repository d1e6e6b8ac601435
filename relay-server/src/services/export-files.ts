import type { Message } from '@parley/shared'
import type { Kysely } from 'kysely'
import type { Database, FileRow } from '../db/schema'
import type { BlobStore } from '../images/blob-store'
import { filesOwnedBy } from '../repositories/files'

/**
 * The files part of an export. The zip holds the files the user uploaded (their own bytes, as
 * they gave them) under `files/<id>/<name>`, and `files.json` lists them. Files others sent are
 * named in the conversations' messages (name, size, type) but their bytes are left out: they are
 * another person's uploads, up to MAX_FILE_BYTES each, and stay downloadable while the messages do.
 */
export interface ExportedFiles {
  rows: FileRow[]
  /** Where a file of the user's sits in the zip; null for files of others. */
  pathOf(id: string): string | null
}

export async function exportedFiles(db: Kysely<Database>, userId: number): Promise<ExportedFiles> {
  const rows = await filesOwnedBy(db, userId)
  const paths = new Map(rows.map((row) => [row.id, `files/${row.id}/${row.name}`]))
  return { rows, pathOf: (id) => paths.get(id) ?? null }
}

/** `files.json`: the user's uploads, with where each sits in the zip. */
export function filesJson(files: ExportedFiles): unknown {
  return {
    files: files.rows.map((row) => ({
      id: row.id,
      name: row.name,
      size: Number(row.size),
      type: row.type,
      uploadedAt: row.created_at,
      path: files.pathOf(row.id),
    })),
  }
}

/** The bytes of one of the user's files, read only when the zip gets to it. */
export async function* fileBytes(store: BlobStore, row: FileRow): AsyncGenerator<Buffer> {
  const blob = await store.get(row.blob)
  if (blob) yield* blob.stream as AsyncIterable<Buffer>
}

/** Where in the zip the file or recording a message carries is, when it is the user's own. */
export function attachmentPath(message: Message, files: ExportedFiles): string | null {
  const file = message.file ?? message.voice?.file
  return file ? files.pathOf(file.id) : null
}
