import type { JsonObject } from '../api/types.js';

export type JsonParse = { ok: true; value: JsonObject } | { ok: false; error: string };

/** Metadata is a JSON object: anything else is refused here, before it is sent. */
export function parseJsonObject(text: string): JsonParse {
  if (text.trim() === '') return { ok: true, value: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `Not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, error: 'Metadata must be a JSON object, like {"plan": "pro"}' };
  }
  return { ok: true, value: value as JsonObject };
}

export function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
