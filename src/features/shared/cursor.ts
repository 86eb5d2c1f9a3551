import { FieldError } from '../../internal/errors.js';

/** A keyset position (timestamp, id), opaque to clients. */
export interface Position {
  at: string;
  id: string;
}

export const encodeCursor = (position: Position) =>
  Buffer.from(JSON.stringify([position.at, position.id])).toString('base64url');

export function decodeCursor(cursor: string | undefined): Position | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'string')) {
      return { at: value[0] as string, id: value[1] as string };
    }
  } catch {
    // fall through to the error below
  }
  throw new FieldError(['query', 'cursor'], 'Value error, the cursor is not one this service issued');
}

/** Given limit + 1 rows, the page and the cursor to the next one. */
export function toPage<R, T>(
  rows: R[],
  limit: number,
  map: (row: R) => T,
  position: (row: R) => Position,
): { items: T[]; next_cursor: string | null } {
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  const last = page.at(-1);
  return {
    items: page.map(map),
    next_cursor: more && last ? encodeCursor(position(last)) : null,
  };
}
