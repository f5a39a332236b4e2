// fast-check arbitraries from the OpenAPI document's JSON schemas (what nestjs-zod emits from
// the zod schemas): mostly valid values, so requests get past validation into the services,
// mixed with near-misses (a wrong type, a dropped or an extra field) and plain junk.
import fc from 'fast-check';

export type Schema = Record<string, any>;

/** URLs the node may be asked to check: local and closed, so the fuzz sends nothing outside. */
export const LOCAL_URLS = [
  'http://127.0.0.1:9/',
  'http://127.0.0.1:9/a?b=c',
  'https://127.0.0.1:9/x',
];

const junk = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    'null',
    '1e300',
    '-1',
    '99999999999999999999999',
    'NaN',
    '\u0000',
    '%00',
    '../',
  ),
  fc.string({ maxLength: 40 }),
  fc.base64String({ maxLength: 60 }),
  fc.constantFrom(
    Buffer.from(JSON.stringify({ t: 1e300, id: '1' })).toString('base64url'),
    Buffer.from(JSON.stringify({ t: 1_700_000_000_000, id: '99999999999999999999' })).toString(
      'base64url',
    ),
    Buffer.from('+275760-09-13T00:00:00Z|1').toString('base64url'),
    Buffer.from('2026-01-01T00:00:00Z|99999999999999999999').toString('base64url'),
  ),
);

export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: junk },
  {
    weight: 1,
    arbitrary: fc.constantFrom(1e300, -1e300, Number.MAX_SAFE_INTEGER + 2, -1, 0, 2 ** 63),
  },
);

export class SchemaArbitraries {
  constructor(private readonly components: Record<string, Schema>) {}

  /** Values for `schema`: valid ones most of the time, near-misses and junk the rest. */
  of(schema: Schema | undefined, name = ''): fc.Arbitrary<unknown> {
    if (!schema) return anyJson;
    return fc.oneof(
      { weight: 6, arbitrary: this.valid(schema, name, 0) },
      { weight: 1, arbitrary: anyJson },
    );
  }

  valid(schema: Schema, name: string, depth: number): fc.Arbitrary<unknown> {
    if (schema.$ref) return this.valid(this.resolve(schema.$ref), name, depth);
    if (/url/i.test(name)) return fc.oneof(fc.constantFrom(...LOCAL_URLS), junk);
    if (schema.const !== undefined) return fc.constant(schema.const);
    if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
    const alts = schema.anyOf ?? schema.oneOf;
    if (Array.isArray(alts) && alts.length > 0)
      return fc.oneof(...alts.map((s: Schema) => this.valid(s, name, depth)));
    if (Array.isArray(schema.allOf) && schema.allOf.length > 0)
      return this.valid(
        Object.assign({}, ...schema.allOf.map((s: Schema) => (s.$ref ? this.resolve(s.$ref) : s))),
        name,
        depth,
      );
    const type = Array.isArray(schema.type) ? schema.type : [schema.type];
    const arbs = type.filter(Boolean).map((t: string) => this.ofType(t, schema, name, depth));
    if (schema.nullable) arbs.push(fc.constant(null));
    return arbs.length > 0 ? fc.oneof(...arbs) : anyJson;
  }

  private ofType(type: string, s: Schema, name: string, depth: number): fc.Arbitrary<unknown> {
    switch (type) {
      case 'string':
        return this.string(s);
      case 'integer':
      case 'number': {
        const min = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : -1e6);
        const max = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 1 : 1e9);
        const lo = Math.max(min, -Number.MAX_SAFE_INTEGER);
        const hi = Math.min(max, Number.MAX_SAFE_INTEGER);
        const int = fc.integer({
          min: Math.ceil(Math.max(lo, -(2 ** 31))),
          max: Math.floor(Math.min(hi, 2 ** 31 - 1)),
        });
        return fc.oneof(
          int,
          fc.constantFrom(lo, hi),
          type === 'number' ? fc.double({ min: lo, max: hi, noNaN: true }) : int,
        );
      }
      case 'boolean':
        return fc.boolean();
      case 'null':
        return fc.constant(null);
      case 'array': {
        if (depth > 3) return fc.constant([]);
        const items = s.items ? this.valid(s.items, name, depth + 1) : anyJson;
        return fc.array(items, {
          minLength: s.minItems ?? 0,
          maxLength: Math.min(s.maxItems ?? 4, 4),
        });
      }
      case 'object': {
        if (depth > 3) return fc.constant({});
        const props: Record<string, Schema> = s.properties ?? {};
        const required = new Set<string>(s.required ?? []);
        const entries = Object.entries(props).map(
          ([k, v]) => [k, this.valid(v, k, depth + 1)] as const,
        );
        const base = fc.record(Object.fromEntries(entries), {
          requiredKeys: [...required].filter((k) => k in props),
        });
        return fc.oneof(
          { weight: 8, arbitrary: base },
          // near-misses: an extra key, or a required one missing
          { weight: 1, arbitrary: base.map((o) => ({ ...(o as object), extra: 1 })) },
          {
            weight: 1,
            arbitrary: base.chain((o) => {
              const keys = Object.keys(o);
              return keys.length === 0
                ? fc.constant(o)
                : fc.constantFrom(...keys).map((k) => {
                    const c = { ...(o as Record<string, unknown>) };
                    delete c[k];
                    return c;
                  });
            }),
          },
        );
      }
      default:
        return anyJson;
    }
  }

  private string(s: Schema): fc.Arbitrary<string> {
    const maxLength = Math.min(s.maxLength ?? 64, 300);
    const minLength = Math.min(s.minLength ?? 0, maxLength);
    switch (s.format) {
      case 'email':
        return fc.oneof(fc.emailAddress(), fc.constantFrom('fuzz-a@fuzz.test', 'fuzz-b@fuzz.test'));
      case 'uuid':
        return fc.uuid();
      case 'date-time':
        return fc.oneof(
          fc
            .date({ min: new Date('1970-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
            .map((d) => d.toISOString()),
          fc.constantFrom(
            '0001-01-01T00:00:00Z',
            '9999-12-31T23:59:59Z',
            '2026-02-31T00:00:00Z',
            '2026-01-01T00:00:00+14:00',
          ),
        );
      case 'uri':
        return fc.constantFrom(...LOCAL_URLS);
      default:
        break;
    }
    if (typeof s.pattern === 'string') {
      try {
        return fc
          .stringMatching(new RegExp(s.pattern))
          .filter((v) => v.length <= Math.max(maxLength, 1));
      } catch {
        // a pattern JavaScript cannot compile: plain strings
      }
    }
    return fc.string({ minLength, maxLength });
  }

  private resolve(ref: string): Schema {
    const name = ref.split('/').pop() ?? '';
    return this.components[name] ?? {};
  }
}
