// A small JSON Schema subset, written once per request and response shape:
// the daemon validates request bodies with it and publishes the same objects
// in its OpenAPI document (OpenAPI 3.1 schemas are JSON Schema).

export interface Schema {
  type?: 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array' | 'null' | Array<'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array' | 'null'>;
  description?: string;
  enum?: ReadonlyArray<string>;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  anyOf?: Schema[];
  $ref?: string;
}

export const str = (extra: Omit<Schema, 'type'> = {}): Schema => ({ type: 'string', ...extra });
export const int = (extra: Omit<Schema, 'type'> = {}): Schema => ({ type: 'integer', ...extra });
export const num = (extra: Omit<Schema, 'type'> = {}): Schema => ({ type: 'number', ...extra });
export const bool = (description?: string): Schema => (description === undefined ? { type: 'boolean' } : { type: 'boolean', description });
export const arr = (items: Schema, extra: Omit<Schema, 'type' | 'items'> = {}): Schema => ({ type: 'array', items, ...extra });
export const any = (description?: string): Schema => (description === undefined ? {} : { description });
export const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
export const nullable = (schema: Schema): Schema => ({ anyOf: [schema, { type: 'null' }] });

/** An object with exactly these properties; names ending in `?` are optional. */
export function obj(properties: Record<string, Schema>, extra: Omit<Schema, 'type' | 'properties' | 'required'> = {}): Schema {
  const props: Record<string, Schema> = {};
  const required: string[] = [];
  for (const [name, schema] of Object.entries(properties)) {
    if (name.endsWith('?')) props[name.slice(0, -1)] = schema;
    else {
      props[name] = schema;
      required.push(name);
    }
  }
  return { type: 'object', properties: props, ...(required.length > 0 ? { required } : {}), additionalProperties: false, ...extra };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}

function typeOk(type: NonNullable<Schema['type']>, value: unknown): boolean {
  if (Array.isArray(type)) return type.some((t) => typeOk(t, value));
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return typeof value === 'number' && Number.isSafeInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
  }
}

function typeName(type: NonNullable<Schema['type']>): string {
  if (Array.isArray(type)) return type.map(typeName).join(' or ');
  return type === 'integer' ? 'a whole number' : type === 'array' || type === 'object' ? `an ${type}` : type === 'null' ? 'null' : `a ${type}`;
}

/** Schemas that `$ref`s name, by their name under #/components/schemas/. */
export type SchemaRefs = Readonly<Record<string, Schema>>;

/** The first violation, as a message naming the field and the value, or null when `value` fits. */
export function validate(schema: Schema, value: unknown, at = 'body', refs: SchemaRefs = {}): string | null {
  if (schema.$ref !== undefined) {
    const target = refs[schema.$ref.replace('#/components/schemas/', '')];
    if (target === undefined) return `${at}: the schema names ${schema.$ref}, which is not defined`;
    return validate(target, value, at, refs);
  }
  if (schema.anyOf !== undefined) {
    const errors = schema.anyOf.map((s) => validate(s, value, at, refs));
    if (errors.some((e) => e === null)) return null;
    return errors.find((e) => e !== null && !e.startsWith(`${at} must be`)) ?? `${at} has the wrong shape: ${describe(value)}`;
  }
  if (schema.type !== undefined && !typeOk(schema.type, value)) return `${at} must be ${typeName(schema.type)}, got ${describe(value)}`;
  if (typeof value === 'string') {
    if (schema.enum !== undefined && !schema.enum.includes(value)) return `${at} must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}, got ${describe(value)}`;
    if (schema.minLength !== undefined && value.length < schema.minLength) return `${at} must not be ${schema.minLength === 1 ? 'empty' : `shorter than ${schema.minLength}`}`;
    if (schema.maxLength !== undefined && value.length > schema.maxLength) return `${at} is longer than ${schema.maxLength} characters`;
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) return `${at} must be >= ${schema.minimum}, got ${value}`;
    if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) return `${at} must be > ${schema.exclusiveMinimum}, got ${value}`;
    if (schema.maximum !== undefined && value > schema.maximum) return `${at} must be <= ${schema.maximum}, got ${value}`;
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) return `${at} must have at least ${schema.minItems} item${schema.minItems === 1 ? '' : 's'}`;
    if (schema.maxItems !== undefined && value.length > schema.maxItems) return `${at} must have at most ${schema.maxItems} items`;
    if (schema.items !== undefined) {
      for (let i = 0; i < value.length; i++) {
        const error = validate(schema.items, value[i], `${at}[${i}]`, refs);
        if (error !== null) return error;
      }
    }
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    for (const name of schema.required ?? []) if (record[name] === undefined) return `${at}.${name} is required`;
    for (const [name, field] of Object.entries(record)) {
      const sub = schema.properties?.[name];
      if (sub !== undefined) {
        const error = validate(sub, field, `${at}.${name}`, refs);
        if (error !== null) return error;
      } else if (schema.additionalProperties === false) {
        return `${at} has an unknown field ${JSON.stringify(name)}`;
      } else if (typeof schema.additionalProperties === 'object') {
        const error = validate(schema.additionalProperties, field, `${at}.${name}`, refs);
        if (error !== null) return error;
      }
    }
  }
  return null;
}
