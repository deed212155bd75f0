import { z } from 'zod';

/** One record Mixpanel refused in a strict `/import`, as far as the reply says which. */
export interface FailedRecord {
  index?: number;
  insertId?: string;
  field?: string;
  message: string;
}

const failedItem = z.union([
  z.string().transform((insertId): FailedRecord => ({ insertId, message: 'failed validation' })),
  z
    .looseObject({
      index: z.number().int().nonnegative().optional(),
      insert_id: z.string().optional(),
      $insert_id: z.string().optional(),
      field: z.string().optional(),
      message: z.string().optional(),
    })
    .transform((item): FailedRecord => ({
      index: item.index,
      insertId: item.$insert_id ?? item.insert_id,
      field: item.field,
      message: item.message ?? 'failed validation',
    })),
]);

const importReply = z.looseObject({
  code: z.number().optional(),
  num_records_imported: z.number().optional(),
  failed_records: z.array(failedItem).optional(),
  error: z.string().optional(),
});

/** The failed records of a strict `/import` 400 (keys `insert_id` or `$insert_id`, or plain strings). */
export function parseImportFailure(
  body: string,
): { imported?: number; failed: FailedRecord[]; error?: string } | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  const parsed = importReply.safeParse(json);
  if (!parsed.success) return undefined;
  return {
    imported: parsed.data.num_records_imported,
    failed: parsed.data.failed_records ?? [],
    error: parsed.data.error,
  };
}

/** `/track`, `/engage`, `/groups` answer `1`/`0`, or `{"status":1|0,"error":…}` with verbose=1. */
export function parseStatusReply(body: string): { ok: true } | { ok: false; error: string } {
  const text = body.trim();
  if (text === '1') return { ok: true };
  if (text === '0') return { ok: false, error: 'Mixpanel answered 0 (record refused)' };
  try {
    const json = JSON.parse(text) as { status?: unknown; error?: unknown };
    if (json.status === 1 || json.status === '1') return { ok: true };
    return {
      ok: false,
      error: typeof json.error === 'string' ? json.error : `Mixpanel answered ${text.slice(0, 200)}`,
    };
  } catch {
    return { ok: false, error: `unexpected answer: ${text.slice(0, 200)}` };
  }
}
