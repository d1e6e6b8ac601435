import {
  type ColumnMetadata,
  type DatabaseIntrospector,
  type DatabaseMetadata,
  type DatabaseMetadataOptions,
  type Kysely,
  PostgresDialect,
  type SchemaMetadata,
  sql,
  type TableMetadata,
} from 'kysely'

const KYSELY_TABLES = new Set(['kysely_migration', 'kysely_migration_lock'])

interface ColumnRow {
  table: string
  kind: string
  column: string | null
  type: string | null
  type_schema: string | null
  not_null: boolean | null
  has_default: boolean | null
  auto_incrementing: boolean | null
  comment: string | null
}

/**
 * Kysely's PostgreSQL introspection (which its migrator uses to find its own tables) reads the
 * columns of every schema on the server and asks `has_schema_privilege(name)` of each by name.
 * A schema dropped while that query runs, by another relay's operator or another test, makes
 * the relay's start fail with "schema … does not exist". The relay only ever works in the first
 * schema of its search_path, so this looks there and nowhere else: by oid, never by name.
 */
export class CurrentSchemaIntrospector implements DatabaseIntrospector {
  readonly #db: Kysely<unknown>

  constructor(db: Kysely<unknown>) {
    this.#db = db
  }

  async getSchemas(): Promise<SchemaMetadata[]> {
    const { rows } = await sql<{ name: string }>`select current_schema() as name`.execute(this.#db)
    return rows.filter((r) => r.name !== null)
  }

  async getTables(
    options: DatabaseMetadataOptions = { withInternalKyselyTables: false },
  ): Promise<TableMetadata[]> {
    const { rows } = await sql<ColumnRow & { schema: string }>`
      select c.relname as table, c.relkind as kind, ns.nspname as schema,
             a.attname as column, t.typname as type, tns.nspname as type_schema,
             a.attnotnull as not_null, a.atthasdef as has_default,
             (a.attidentity <> '' or coalesce(pg_get_expr(d.adbin, d.adrelid), '') like 'nextval(%') as auto_incrementing,
             col_description(c.oid, a.attnum) as comment
      from pg_catalog.pg_class c
      join pg_catalog.pg_namespace ns on ns.oid = c.relnamespace
      left join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
      left join pg_catalog.pg_type t on t.oid = a.atttypid
      left join pg_catalog.pg_namespace tns on tns.oid = t.typnamespace
      left join pg_catalog.pg_attrdef d on d.adrelid = c.oid and d.adnum = a.attnum
      where ns.nspname = current_schema() and c.relkind in ('r', 'v', 'p')
      order by c.relname, a.attnum`.execute(this.#db)
    const tables = new Map<
      string,
      { name: string; schema: string; isView: boolean; columns: ColumnMetadata[] }
    >()
    for (const row of rows) {
      if (!options.withInternalKyselyTables && KYSELY_TABLES.has(row.table)) continue
      let table = tables.get(row.table)
      if (!table) {
        table = { name: row.table, schema: row.schema, isView: row.kind === 'v', columns: [] }
        tables.set(row.table, table)
      }
      if (row.column === null) continue
      table.columns.push({
        name: row.column,
        dataType: row.type ?? 'unknown',
        ...(row.type_schema !== null && { dataTypeSchema: row.type_schema }),
        isNullable: !row.not_null,
        isAutoIncrementing: row.auto_incrementing === true,
        hasDefaultValue: row.has_default === true,
        ...(row.comment !== null && { comment: row.comment }),
      })
    }
    return [...tables.values()]
  }

  async getMetadata(options?: DatabaseMetadataOptions): Promise<DatabaseMetadata> {
    return { tables: await this.getTables(options) }
  }
}

/** PostgreSQL as kysely speaks it, introspecting only the relay's own schema. */
export class RelayPostgresDialect extends PostgresDialect {
  override createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new CurrentSchemaIntrospector(db)
  }
}
