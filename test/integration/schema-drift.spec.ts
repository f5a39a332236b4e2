// Proves prisma/schema.prisma and the SQL in prisma/migrations cannot drift apart silently: the
// migrations are applied to a throwaway database, its catalog is read back, and every table, column
// (type, nullability, default), enum, key, index (columns and sort order) and foreign key is compared
// with what the schema declares, as parsed by Prisma's own schema parser.
//
// Why this parser: `@prisma/internals` (getDMMF) is not installed and the generated client only keeps a
// pruned data model (no native types, defaults or indexes). The `prisma` package ships the schema
// parser that `prisma generate` uses as WebAssembly (build/prisma_schema_build_bg.wasm); it needs
// four tiny imports, so it is loaded directly below: offline, no engine binary, same DMMF as getDMMF.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { createTestDatabase, TestDatabase } from '../support/db';

jest.setTimeout(60_000);

const SCHEMA_FILE = path.resolve(__dirname, '../../prisma/schema.prisma');

describe('schema.prisma and the migrations describe the same database', () => {
  let db: TestDatabase;
  let client: Client;
  const schema = readFileSync(SCHEMA_FILE, 'utf8');

  beforeAll(async () => {
    db = await createTestDatabase();
    client = new Client({ connectionString: db.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await db?.drop();
  });

  it('has no difference', async () => {
    expect(driftBetween(expectedFacts(parseSchema(schema)), await actualFacts(client))).toEqual([]);
  });

  // The checks below prove the comparison can fail, and show what a failure reads like.

  it('reports a column added to schema.prisma but not to the SQL', async () => {
    const edited = schema.replace(
      /(model Validator \{\n)/,
      '$1  extraNote String? @map("extra_note") @db.VarChar(20)\n',
    );

    expect(driftBetween(expectedFacts(parseSchema(edited)), await actualFacts(client))).toEqual([
      'only in schema.prisma: column validators.extra_note character varying(20) NULL',
    ]);
  });

  it('reports an index, a sort order and a delete rule the SQL lost', async () => {
    const drift = await insideRolledBackTransaction(client, async () => {
      await client.query('DROP INDEX "validators_region_idx"');
      await client.query('DROP INDEX "incidents_website_id_started_at_idx"');
      await client.query(
        'CREATE INDEX "incidents_website_id_started_at_idx" ON "incidents"("website_id", "started_at")',
      );
      await client.query('ALTER TABLE "alerts" DROP CONSTRAINT "alerts_website_id_fkey"');
      await client.query(
        `ALTER TABLE "alerts" ADD CONSTRAINT "alerts_website_id_fkey" FOREIGN KEY ("website_id")
           REFERENCES "websites"("id") ON DELETE RESTRICT ON UPDATE CASCADE`,
      );
      return driftBetween(expectedFacts(parseSchema(schema)), await actualFacts(client));
    });

    expect(drift).toEqual([
      'only in schema.prisma: foreign key alerts_website_id_fkey alerts(website_id) -> websites(id) ON DELETE CASCADE ON UPDATE CASCADE',
      'only in schema.prisma: index incidents_website_id_started_at_idx on incidents(website_id, started_at DESC)',
      'only in schema.prisma: index validators_region_idx on validators(region)',
      'only in the SQL: foreign key alerts_website_id_fkey alerts(website_id) -> websites(id) ON DELETE RESTRICT ON UPDATE CASCADE',
      'only in the SQL: index incidents_website_id_started_at_idx on incidents(website_id, started_at)',
    ]);
  });

  it('reports an enum value and a default that exist only in the SQL', async () => {
    const drift = await insideRolledBackTransaction(client, async () => {
      await client.query(`ALTER TYPE "Verdict" ADD VALUE 'DEGRADED'`);
      await client.query(`ALTER TABLE "websites" ALTER COLUMN "keyword" SET DEFAULT 'ok'`);
      return driftBetween(expectedFacts(parseSchema(schema)), await actualFacts(client));
    });

    expect(drift).toEqual([
      'only in schema.prisma: column websites.keyword character varying(1024) NULL',
      'only in schema.prisma: enum Verdict (UP, DOWN, UNKNOWN)',
      'only in the SQL: column websites.keyword character varying(1024) NULL DEFAULT ok',
      'only in the SQL: enum Verdict (UP, DOWN, UNKNOWN, DEGRADED)',
    ]);
  });
});

async function insideRolledBackTransaction<T>(client: Client, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    return await fn();
  } finally {
    await client.query('ROLLBACK');
  }
}

function driftBetween(expected: string[], actual: string[]): string[] {
  const exp = new Set(expected);
  const act = new Set(actual);
  return [
    ...expected.filter((f) => !act.has(f)).map((f) => `only in schema.prisma: ${f}`),
    ...actual.filter((f) => !exp.has(f)).map((f) => `only in the SQL: ${f}`),
  ].sort();
}

// ---------------------------------------------------------------------------
// What schema.prisma declares, as facts in the same words the catalog gives.

interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: 'scalar' | 'object' | 'enum' | 'unsupported';
  type: string;
  isList: boolean;
  isRequired: boolean;
  nativeType?: [string, string[]] | null;
  default?: unknown;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string | null;
  relationOnUpdate?: string | null;
}
interface DmmfModel {
  name: string;
  dbName: string | null;
  fields: DmmfField[];
}
interface DmmfIndex {
  model: string;
  type: 'id' | 'unique' | 'normal' | 'fulltext';
  dbName?: string | null;
  fields: { name: string; sortOrder?: 'asc' | 'desc' }[];
}
interface DmmfEnum {
  name: string;
  dbName: string | null;
  values: { name: string; dbName: string | null }[];
}
interface Datamodel {
  models: DmmfModel[];
  enums: DmmfEnum[];
  indexes: DmmfIndex[];
}

function expectedFacts(dm: Datamodel): string[] {
  const models = new Map(dm.models.map((m) => [m.name, m]));
  const enums = new Map(dm.enums.map((e) => [e.name, e]));
  return [
    ...dm.enums.map(
      (e) => `enum ${e.dbName ?? e.name} (${e.values.map((v) => v.dbName ?? v.name).join(', ')})`,
    ),
    ...dm.models.map((m) => `table ${tableOf(m)}`),
    ...dm.models.flatMap((m) =>
      m.fields
        .filter((f) => f.kind === 'scalar' || f.kind === 'enum')
        .map((f) => columnFact(m, f, enums)),
    ),
    ...dm.models.flatMap((m) =>
      m.fields
        .filter((f) => f.kind === 'object' && f.relationFromFields?.length)
        .map((f) => foreignKeyFact(m, f, models.get(f.type)!)),
    ),
    ...dm.indexes.map((ix) => indexFact(ix, models.get(ix.model)!)),
  ].sort();
}

const tableOf = (m: DmmfModel) => m.dbName ?? m.name;

function columnOf(m: DmmfModel, field: string): string {
  const f = m.fields.find((x) => x.name === field)!;
  return f.dbName ?? f.name;
}

function columnFact(m: DmmfModel, f: DmmfField, enums: Map<string, DmmfEnum>): string {
  // Prisma never puts NOT NULL on a scalar list column.
  const nullable = !f.isRequired || f.isList ? 'NULL' : 'NOT NULL';
  const dflt = expectedDefault(f, enums);
  return (
    `column ${tableOf(m)}.${f.dbName ?? f.name} ${expectedType(f, enums)} ${nullable}` +
    (dflt === undefined ? '' : ` DEFAULT ${dflt}`)
  );
}

function foreignKeyFact(m: DmmfModel, f: DmmfField, target: DmmfModel): string {
  const from = f.relationFromFields!.map((x) => columnOf(m, x));
  const to = f.relationToFields!.map((x) => columnOf(target, x));
  const optional = f.relationFromFields!.some(
    (x) => !m.fields.find((y) => y.name === x)!.isRequired,
  );
  // Prisma's defaults when @relation names no action.
  const onDelete = referentialAction(f.relationOnDelete ?? (optional ? 'SetNull' : 'Restrict'));
  const onUpdate = referentialAction(f.relationOnUpdate ?? 'Cascade');
  // FK names assume Prisma's convention: a @relation(map: ...) would need reading here.
  const name = constraintName(tableOf(m), from, 'fkey');
  return (
    `foreign key ${name} ${tableOf(m)}(${from.join(', ')}) -> ${tableOf(target)}(${to.join(', ')}) ` +
    `ON DELETE ${onDelete} ON UPDATE ${onUpdate}`
  );
}

function indexFact(ix: DmmfIndex, m: DmmfModel): string {
  const bare = ix.fields.map((f) => columnOf(m, f.name));
  const cols = ix.fields.map((f, i) => bare[i] + (f.sortOrder === 'desc' ? ' DESC' : ''));
  const on = `on ${tableOf(m)}(${cols.join(', ')})`;
  switch (ix.type) {
    case 'id':
      return `primary key ${ix.dbName ?? `${tableOf(m)}_pkey`} ${on}`;
    case 'unique':
      return `unique index ${ix.dbName ?? constraintName(tableOf(m), bare, 'key')} ${on}`;
    case 'normal':
      return `index ${ix.dbName ?? constraintName(tableOf(m), bare, 'idx')} ${on}`;
    case 'fulltext':
      throw new Error(`fulltext indexes do not exist on PostgreSQL (${ix.model})`);
  }
}

function constraintName(table: string, columns: string[], suffix: string): string {
  const name = `${table}_${columns.join('_')}_${suffix}`;
  // Prisma shortens longer names by its own rule; map: them explicitly instead of guessing here.
  if (name.length > 63) throw new Error(`${name} exceeds 63 characters: give it map: "..."`);
  return name;
}

function referentialAction(action: string): string {
  const sql: Record<string, string> = {
    Cascade: 'CASCADE',
    Restrict: 'RESTRICT',
    NoAction: 'NO ACTION',
    SetNull: 'SET NULL',
    SetDefault: 'SET DEFAULT',
  };
  if (!sql[action]) throw new Error(`unknown referential action ${action}`);
  return sql[action];
}

/** The type as PostgreSQL's format_type() prints it. */
function expectedType(f: DmmfField, enums: Map<string, DmmfEnum>): string {
  const base = f.kind === 'enum' ? (enums.get(f.type)!.dbName ?? f.type) : scalarType(f);
  return f.isList ? `${base}[]` : base;
}

function scalarType(f: DmmfField): string {
  const [native, args] = f.nativeType ?? [undefined, []];
  const key = native ? `${f.type}@${native}` : f.type;
  const types: Record<string, string> = {
    String: 'text',
    'String@Text': 'text',
    'String@Uuid': 'uuid',
    'String@VarChar': `character varying(${args[0]})`,
    'String@Char': `character(${args[0]})`,
    Int: 'integer',
    'Int@Integer': 'integer',
    'Int@SmallInt': 'smallint',
    BigInt: 'bigint',
    'BigInt@BigInt': 'bigint',
    Boolean: 'boolean',
    Float: 'double precision',
    Decimal: 'numeric(65,30)',
    'Decimal@Decimal': `numeric(${args.join(',')})`,
    Json: 'jsonb',
    'Json@Json': 'json',
    Bytes: 'bytea',
    DateTime: 'timestamp(3) without time zone',
    'DateTime@Timestamp': `timestamp(${args[0] ?? 6}) without time zone`,
    'DateTime@Timestamptz': `timestamp(${args[0] ?? 6}) with time zone`,
    'DateTime@Date': 'date',
  };
  const t = types[key];
  if (!t)
    throw new Error(`the drift test does not know ${key} (${f.name}); add it to scalarType()`);
  return t;
}

/** The default as normaliseDefault() below reads it back; undefined when the column has none. */
function expectedDefault(f: DmmfField, enums: Map<string, DmmfEnum>): string | undefined {
  const d = f.default;
  if (d === undefined || d === null) return undefined;
  if (typeof d === 'object' && !Array.isArray(d) && 'name' in d) {
    const fn = d as { name: string; args: unknown[] };
    switch (fn.name) {
      case 'autoincrement':
        return 'autoincrement()';
      case 'now':
        return 'now()';
      case 'dbgenerated':
        return String(fn.args[0]);
      case 'uuid':
      case 'cuid':
      case 'nanoid':
      case 'ulid':
        return undefined; // generated by the client, no SQL default
      default:
        throw new Error(`the drift test does not know @default(${fn.name}()) on ${f.name}`);
    }
  }
  if (Array.isArray(d)) return `{${d.join(',')}}`;
  if (typeof d !== 'string' && typeof d !== 'number' && typeof d !== 'boolean') {
    throw new Error(`the drift test does not know the default ${JSON.stringify(d)} on ${f.name}`);
  }
  if (f.kind === 'enum') {
    const value = enums.get(f.type)!.values.find((v) => v.name === d);
    return value?.dbName ?? String(d);
  }
  return String(d);
}

// ---------------------------------------------------------------------------
// What the migrated database has, read from pg_catalog.

async function actualFacts(client: Client): Promise<string[]> {
  const facts = [
    ...(await enumFacts(client)),
    ...(await columnFacts(client)),
    ...(await indexFacts(client)),
    ...(await foreignKeyFacts(client)),
  ];
  return facts.sort();
}

async function enumFacts(client: Client): Promise<string[]> {
  const r = await client.query<{ name: string; labels: string[] }>(`
    SELECT t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
      FROM pg_type t
      JOIN pg_enum e ON e.enumtypid = t.oid
      JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE n.nspname = current_schema()
     GROUP BY t.typname`);
  return r.rows.map((e) => `enum ${e.name} (${e.labels.join(', ')})`);
}

async function columnFacts(client: Client): Promise<string[]> {
  const r = await client.query<{
    table: string;
    column: string | null;
    type: string;
    not_null: boolean;
    dflt: string | null;
  }>(`
    SELECT c.relname AS table, a.attname AS column,
           format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
           pg_get_expr(d.adbin, d.adrelid) AS dflt
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
       AND c.relname <> '_prisma_migrations'`);
  const tables = [...new Set(r.rows.map((row) => `table ${row.table}`))];
  const columns = r.rows
    .filter((row) => row.column !== null)
    .map((row) => {
      const dflt = normaliseDefault(row.dflt);
      return (
        `column ${row.table}.${row.column} ${row.type.replace(/"/g, '')} ${row.not_null ? 'NOT NULL' : 'NULL'}` +
        (dflt === undefined ? '' : ` DEFAULT ${dflt}`)
      );
    });
  return [...tables, ...columns];
}

/** pg_get_expr() text in the vocabulary of Prisma's @default. */
function normaliseDefault(expr: string | null): string | undefined {
  if (expr === null) return undefined;
  if (/^nextval\(/.test(expr)) return 'autoincrement()';
  if (expr === 'CURRENT_TIMESTAMP' || expr === 'now()') return 'now()';
  const literal = /^'((?:[^']|'')*)'::[\w\s"[\]().]+$/.exec(expr);
  return literal ? literal[1].replace(/''/g, "'") : expr;
}

async function indexFacts(client: Client): Promise<string[]> {
  const r = await client.query<{
    table: string;
    name: string;
    is_unique: boolean;
    is_primary: boolean;
    method: string;
    special: boolean;
    columns: string[];
  }>(`
    SELECT t.relname AS table, i.relname AS name, ix.indisunique AS is_unique,
           ix.indisprimary AS is_primary, am.amname AS method,
           (ix.indpred IS NOT NULL OR ix.indexprs IS NOT NULL) AS special,
           ARRAY(
             SELECT a.attname::text || CASE WHEN ix.indoption[k.ord - 1] & 1 = 1 THEN ' DESC' ELSE '' END
               FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
              ORDER BY k.ord) AS columns
      FROM pg_index ix
      JOIN pg_class i ON i.oid = ix.indexrelid
      JOIN pg_class t ON t.oid = ix.indrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace
      JOIN pg_am am ON am.oid = i.relam
     WHERE n.nspname = current_schema() AND t.relname <> '_prisma_migrations'`);
  return r.rows.map((ix) => {
    const kind = ix.is_primary ? 'primary key' : ix.is_unique ? 'unique index' : 'index';
    const extra =
      (ix.method === 'btree' ? '' : ` USING ${ix.method}`) +
      (ix.special ? ' (partial or expression)' : '');
    return `${kind} ${ix.name} on ${ix.table}(${ix.columns.join(', ')})${extra}`;
  });
}

async function foreignKeyFacts(client: Client): Promise<string[]> {
  const action: Record<string, string> = {
    a: 'NO ACTION',
    r: 'RESTRICT',
    c: 'CASCADE',
    n: 'SET NULL',
    d: 'SET DEFAULT',
  };
  const r = await client.query<{
    name: string;
    table: string;
    ref_table: string;
    on_delete: string;
    on_update: string;
    columns: string[];
    ref_columns: string[];
  }>(`
    SELECT con.conname AS name, t.relname AS table, rt.relname AS ref_table,
           con.confdeltype AS on_delete, con.confupdtype AS on_update,
           ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
                   JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
                  ORDER BY k.ord) AS columns,
           ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
                   JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
                  ORDER BY k.ord) AS ref_columns
      FROM pg_constraint con
      JOIN pg_class t ON t.oid = con.conrelid
      JOIN pg_class rt ON rt.oid = con.confrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace
     WHERE con.contype = 'f' AND n.nspname = current_schema()`);
  return r.rows.map(
    (fk) =>
      `foreign key ${fk.name} ${fk.table}(${fk.columns.join(', ')}) -> ${fk.ref_table}(${fk.ref_columns.join(', ')}) ` +
      `ON DELETE ${action[fk.on_delete]} ON UPDATE ${action[fk.on_update]}`,
  );
}

// ---------------------------------------------------------------------------
// Prisma's schema parser (prisma/build/prisma_schema_build_bg.wasm), as `prisma generate` runs it.

// tsconfig's lib has no DOM, so the few WebAssembly shapes used here are declared locally.
interface WasmTable {
  grow(delta: number): number;
  get(index: number): unknown;
  set(index: number, value: unknown): void;
}
interface WasmGlobal {
  Module: {
    new (bytes: Uint8Array): object;
    imports(module: object): { module: string; name: string }[];
  };
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const Wasm = (globalThis as unknown as { WebAssembly: WasmGlobal }).WebAssembly;

interface SchemaWasm {
  memory: { buffer: ArrayBuffer };
  __wbindgen_externrefs: WasmTable;
  __wbindgen_malloc(size: number, align: number): number;
  __wbindgen_free(ptr: number, size: number, align: number): void;
  __externref_table_dealloc(index: number): void;
  __wbindgen_start(): void;
  get_dmmf(ptr: number, len: number): [number, number, number, number];
}

let wasm: SchemaWasm | undefined;

function schemaWasm(): SchemaWasm {
  if (wasm) return wasm;
  const prismaDir = path.dirname(require.resolve('prisma/package.json'));
  const module = new Wasm.Module(
    readFileSync(path.join(prismaDir, 'build/prisma_schema_build_bg.wasm')),
  );
  // Imports run during instantiation, before `instance` exists: they reach it through this box.
  const box: { instance?: SchemaWasm } = {};
  const text = (ptr: number, len: number) =>
    new TextDecoder().decode(new Uint8Array(box.instance!.memory.buffer, ptr, len));
  const imports: Record<string, Record<string, (...args: number[]) => unknown>> = {};
  // wasm-bindgen suffixes import names with a hash that changes between Prisma versions.
  for (const imp of Wasm.Module.imports(module)) {
    (imports[imp.module] ??= {})[imp.name] = bindgenImport(imp.name, text, () => box.instance!);
  }
  box.instance = new Wasm.Instance(module, imports).exports as SchemaWasm;
  box.instance.__wbindgen_start();
  return (wasm = box.instance);
}

function bindgenImport(
  name: string,
  text: (ptr: number, len: number) => string,
  wasmExports: () => SchemaWasm,
): (...args: number[]) => unknown {
  if (name.startsWith('__wbg_Error_')) return (p, l) => new Error(text(p, l));
  if (name.startsWith('__wbg___wbindgen_throw_')) {
    return (p, l) => {
      throw new Error(text(p, l));
    };
  }
  if (name.startsWith('__wbg_set_message_')) return () => undefined; // panic message registry
  if (name === '__wbindgen_init_externref_table') {
    return () => {
      const table = wasmExports().__wbindgen_externrefs;
      const base = table.grow(4);
      table.set(0, undefined);
      [undefined, null, true, false].forEach((v, i) => table.set(base + i, v));
    };
  }
  throw new Error(`unexpected import ${name} in prisma_schema_build_bg.wasm; update the loader`);
}

function parseSchema(prismaSchema: string): Datamodel {
  const w = schemaWasm();
  const input = new TextEncoder().encode(JSON.stringify({ prismaSchema, noColor: true }));
  const ptr = w.__wbindgen_malloc(input.length, 1);
  new Uint8Array(w.memory.buffer, ptr, input.length).set(input);
  const [outPtr, outLen, errRef, failed] = w.get_dmmf(ptr, input.length);
  if (failed) {
    const err = w.__wbindgen_externrefs.get(errRef) as Error;
    w.__externref_table_dealloc(errRef);
    throw new Error(`schema.prisma does not parse: ${readableParseError(err)}`);
  }
  const json = new TextDecoder().decode(new Uint8Array(w.memory.buffer, outPtr, outLen));
  w.__wbindgen_free(outPtr, outLen, 1);
  return (JSON.parse(json) as { datamodel: Datamodel }).datamodel;
}

function readableParseError(err: Error): string {
  try {
    return (JSON.parse(err.message) as { message: string }).message;
  } catch {
    return err.message;
  }
}
