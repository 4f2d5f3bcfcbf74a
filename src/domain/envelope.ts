/**
 * The event envelope: the public contract every producer, in any language,
 * writes to the events topic. Validation is on the envelope; payload fields are
 * each event type's business and never cause a drop.
 */
import { z } from 'zod';

const occurredAtSchema = z.iso.datetime({ offset: true });

/**
 * Whether a string is well-formed Unicode (no lone UTF-16 surrogate, which JSON can spell as `\ud800`).
 * Ids must be: written to Redis as UTF-8, a lone surrogate becomes U+FFFD, and two different ids would
 * then share one record (the second event's sends taken for repeats).
 */
const wellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();
const LONE_SURROGATE = 'holds a lone UTF-16 surrogate (not valid Unicode)';
const idSchema = z.string().min(1).max(200).refine(wellFormed, LONE_SURROGATE);

export const envelopeSchema = z.strictObject({
  id: idSchema,
  type: z.string().min(1).max(100),
  userId: idSchema,
  occurredAt: occurredAtSchema,
  payload: z.record(z.string(), z.unknown()),
});

export type EventEnvelope = z.infer<typeof envelopeSchema>;

/**
 * Why `value` cannot be the envelope's `field`, in words (its schema's rule), or undefined when it can:
 * for a program that builds an envelope from input (`produce --user`), so that it refuses what the
 * consumer would dead-letter.
 */
export function envelopeFieldProblem(field: 'id' | 'type' | 'userId', value: string): string | undefined {
  const result = envelopeSchema.shape[field].safeParse(value);
  if (result.success) return undefined;
  const issue = result.error.issues[0];
  const characters = (n: unknown): string => `${String(n)} character${n === 1 ? '' : 's'}`;
  if (issue?.code === 'too_small')
    return `at least ${characters(issue.minimum)} (it is ${value.length === 0 ? 'empty' : characters(value.length)})`;
  if (issue?.code === 'too_big') return `at most ${characters(issue.maximum)} (it has ${value.length})`;
  return issue?.message ?? 'not valid';
}

/** Why a message that cannot be decoded into an envelope is dead-lettered (its `dlq-reason`). */
export const DECODE_FAILURE_REASONS = [
  'no-value',
  'too-large',
  'invalid-utf8',
  'invalid-json',
  'schema',
  'unknown-type',
] as const;

export type DeadLetterReason = (typeof DECODE_FAILURE_REASONS)[number];

export type Decoded = { ok: true; event: EventEnvelope } | { ok: false; reason: DeadLetterReason; detail: string };

export interface DecodeOptions {
  maxBytes: number;
  knownTypes: ReadonlySet<string>;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const MAX_DEPTH = 32;

/**
 * Whether the bytes hold at most `limit` openers (`{`, `[`) in all, strings included: then nothing can
 * nest deeper than `limit`. A few native searches, instead of a scan by character, for the usual event.
 */
function fewOpeners(value: Buffer, limit: number): boolean {
  let count = 0;
  for (const opener of OPENERS) {
    for (let at = value.indexOf(opener); at !== -1; at = value.indexOf(opener, at + 1)) {
      if (++count > limit) return false;
    }
  }
  return true;
}
const OPENERS = [0x7b, 0x5b] as const;

/** Whether the JSON text nests objects/arrays deeper than `limit`: a linear scan, before any parser recursion. */
function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

class ForbiddenKeyError extends Error {}

/**
 * JSON.parse that refuses `__proto__` keys anywhere, so no message can reach an object's prototype.
 * A reviver costs a call per value: text that cannot spell the key (neither the name nor a `\u`
 * escape anywhere) is parsed without one.
 */
function safeParse(text: string): unknown {
  if (!text.includes('__proto__') && !text.includes('\\u')) return JSON.parse(text);
  return JSON.parse(text, (key, value: unknown) => {
    if (key === '__proto__') throw new ForbiddenKeyError('a "__proto__" key is not allowed');
    return value;
  });
}

const DATETIME = (occurredAtSchema._zod.def as { pattern: RegExp }).pattern;
const ENVELOPE_FIELDS = 5;

function stringWithin(value: unknown, max: number): value is string {
  return typeof value === 'string' && value.length >= 1 && value.length <= max;
}

/**
 * The envelope schema's checks written out for the common case, a valid envelope: it returns the event
 * only when {@link envelopeSchema} would accept it unchanged (a test holds the two together), otherwise
 * undefined and zod decides, with its messages.
 */
export function validEnvelope(value: unknown): EventEnvelope | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const o = value as Record<string, unknown>;
  let fields = 0;
  for (const key in o) {
    if (key !== 'id' && key !== 'type' && key !== 'userId' && key !== 'occurredAt' && key !== 'payload')
      return undefined;
    fields++;
  }
  if (fields !== ENVELOPE_FIELDS) return undefined;
  if (!stringWithin(o.id, 200) || !stringWithin(o.type, 100) || !stringWithin(o.userId, 200)) return undefined;
  if (!wellFormed(o.id) || !wellFormed(o.userId)) return undefined;
  if (typeof o.occurredAt !== 'string' || !DATETIME.test(o.occurredAt)) return undefined;
  const payload = o.payload;
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  if (Object.getPrototypeOf(payload) !== Object.prototype) return undefined;
  return o as EventEnvelope;
}

export function decodeEvent(value: Buffer | null, options: DecodeOptions): Decoded {
  if (value === null || value.length === 0) return { ok: false, reason: 'no-value', detail: 'message has no value' };
  if (value.length > options.maxBytes) {
    return {
      ok: false,
      reason: 'too-large',
      detail: `value is ${value.length} bytes, over the ${options.maxBytes}-byte limit`,
    };
  }
  let text: string;
  try {
    text = utf8.decode(value);
  } catch {
    return { ok: false, reason: 'invalid-utf8', detail: 'value is not valid UTF-8' };
  }
  if (!fewOpeners(value, MAX_DEPTH) && nestsDeeperThan(text, MAX_DEPTH)) {
    return { ok: false, reason: 'schema', detail: `JSON nested deeper than ${MAX_DEPTH} levels` };
  }
  let parsed: unknown;
  try {
    parsed = safeParse(text);
  } catch (error) {
    if (error instanceof ForbiddenKeyError) return { ok: false, reason: 'schema', detail: error.message };
    return { ok: false, reason: 'invalid-json', detail: (error as Error).message.slice(0, 200) };
  }
  const fast = validEnvelope(parsed);
  if (fast) {
    if (!options.knownTypes.has(fast.type)) {
      return { ok: false, reason: 'unknown-type', detail: `unknown event type "${fast.type.slice(0, 100)}"` };
    }
    return { ok: true, event: fast };
  }
  const result = envelopeSchema.safeParse(parsed);
  if (!result.success) {
    const detail = result.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`)
      .join('; ');
    return { ok: false, reason: 'schema', detail: detail.slice(0, 300) };
  }
  if (!options.knownTypes.has(result.data.type)) {
    return { ok: false, reason: 'unknown-type', detail: `unknown event type "${result.data.type.slice(0, 100)}"` };
  }
  return { ok: true, event: result.data };
}

export function encodeEvent(event: EventEnvelope): Buffer {
  return Buffer.from(JSON.stringify(event));
}
