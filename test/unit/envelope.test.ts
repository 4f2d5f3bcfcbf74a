import { describe, expect, it } from 'vitest';
import { decodeEvent, envelopeFieldProblem, envelopeSchema, validEnvelope } from '../../src/domain/envelope.js';

const options = { maxBytes: 1024, knownTypes: new Set(['user_signup']) };
const good = {
  id: 'e1',
  type: 'user_signup',
  userId: 'u1',
  occurredAt: '2026-11-27T10:00:00Z',
  payload: { plan: 'pro' },
};
const bytes = (v: unknown): Buffer => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

describe('the event envelope decides what is consumed and what is dead-lettered', () => {
  it('accepts an event in the contract shape', () => {
    const decoded = decodeEvent(bytes(good), options);
    expect(decoded).toEqual({ ok: true, event: good });
  });

  it.each([
    ['no-value', null],
    ['invalid-utf8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d])],
    ['invalid-json', bytes('{"id": ')],
    ['schema', bytes({ ...good, userId: 42 })],
    ['schema', bytes({ ...good, occurredAt: 'yesterday' })],
    ['schema', bytes({ id: 'e1', type: 'user_signup' })],
    ['schema', bytes({ ...good, extra: true })],
    ['schema', bytes([1, 2, 3])],
    ['unknown-type', bytes({ ...good, type: 'rocket_launch' })],
    ['too-large', bytes({ ...good, payload: { blob: 'x'.repeat(2000) } })],
  ])('sends %s to the dead-letter topic', (reason, value) => {
    const decoded = decodeEvent(value as Buffer | null, options);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) {
      expect(decoded.reason).toBe(reason);
      expect(decoded.detail.length).toBeGreaterThan(0);
    }
  });

  it('says which field is wrong', () => {
    const decoded = decodeEvent(bytes({ ...good, userId: 42 }), options);
    expect(!decoded.ok && decoded.detail).toMatch(/userId/);
  });

  it('rejects JSON nested deeper than the limit without blowing the stack', () => {
    const deep = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
    const decoded = decodeEvent(bytes(deep), { ...options, maxBytes: 1e6 });
    expect(decoded.ok).toBe(false);
  });

  it('decodes an event with many braces inside its strings, and rejects one nested 33 deep', () => {
    // more than 32 openers in all, but inside a string: the byte count alone must not reject it
    const braces = { ...good, payload: { note: '{['.repeat(40) } };
    expect(decodeEvent(bytes(braces), options)).toMatchObject({
      ok: true,
      event: { payload: { note: '{['.repeat(40) } },
    });
    const nested = (depth: number): unknown => (depth === 0 ? 1 : { a: nested(depth - 1) });
    expect(decodeEvent(bytes({ ...good, payload: nested(31) }), options).ok).toBe(true);
    expect(decodeEvent(bytes({ ...good, payload: nested(32) }), options)).toMatchObject({
      ok: false,
      reason: 'schema',
      detail: 'JSON nested deeper than 32 levels',
    });
  });

  it('refuses a __proto__ key anywhere (schema), so nothing reaches an object prototype', () => {
    const decoded = decodeEvent(
      bytes(
        '{"id":"e1","type":"user_signup","userId":"u1","occurredAt":"2026-11-27T10:00:00Z","payload":{"__proto__":{"polluted":true}}}',
      ),
      options,
    );
    expect(decoded).toMatchObject({ ok: false, reason: 'schema', detail: 'a "__proto__" key is not allowed' });
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('refuses a __proto__ key spelled with a \\u escape', () => {
    const decoded = decodeEvent(
      bytes(
        '{"id":"e1","type":"user_signup","userId":"u1","occurredAt":"2026-11-27T10:00:00Z","payload":{"\\u005f_proto__":{"polluted":true}}}',
      ),
      options,
    );
    expect(decoded).toMatchObject({ ok: false, reason: 'schema' });
  });

  it('refuses an id or user id holding a lone surrogate: in Redis it would be the same id as one with U+FFFD', () => {
    for (const field of ['id', 'userId']) {
      const decoded = decodeEvent(bytes(JSON.stringify({ ...good, [field]: 'sur\ud800x' })), options);
      expect(decoded).toMatchObject({ ok: false, reason: 'schema' });
      expect(!decoded.ok && decoded.detail).toContain(`${field}: holds a lone UTF-16 surrogate`);
    }
    // a pair is fine
    expect(decodeEvent(bytes(JSON.stringify({ ...good, id: 'ok-\ud83d\ude80' })), options)).toMatchObject({ ok: true });
  });

  it('says why a value cannot be a field (produce --user/--type), exactly when the consumer would dead-letter it', () => {
    const cases: ['userId' | 'type', string][] = [
      ['userId', ''],
      ['userId', 'u'.repeat(200)],
      ['userId', 'u'.repeat(201)],
      ['userId', 'sur\ud800x'],
      ['type', ''],
      ['type', 't'.repeat(101)],
      ['type', 'user_signup'],
    ];
    for (const [field, value] of cases) {
      const decoded = decodeEvent(bytes({ ...good, [field]: value }), {
        ...options,
        knownTypes: new Set([good.type, value]),
      });
      expect(envelopeFieldProblem(field, value) === undefined, `${field} ${value.length}`).toBe(decoded.ok);
    }
    expect(envelopeFieldProblem('userId', '')).toBe('at least 1 character (it is empty)');
    expect(envelopeFieldProblem('userId', 'u'.repeat(201))).toBe('at most 200 characters (it has 201)');
    expect(envelopeFieldProblem('userId', 'sur\ud800x')).toBe('holds a lone UTF-16 surrogate (not valid Unicode)');
  });

  it('takes the fast validation path only for envelopes zod accepts unchanged', () => {
    // Valid envelopes, and each one broken one way: the fast check must never accept what zod refuses.
    const variants: unknown[] = [good, { ...good, occurredAt: '2026-11-27T10:00:00.123+05:30' }];
    const breakers: Record<string, unknown[]> = {
      id: ['', 'x'.repeat(201), 7, null, ['e1'], 'sur\ud800x', '\udc00'],
      type: ['', 'x'.repeat(101), {}, false],
      userId: ['', 'x'.repeat(201), 1.5, 'u\ud83d'],
      occurredAt: ['2026-11-27', '2026-02-30T10:00:00Z', '2026-11-27T10:00:00', '2026-11-27 10:00:00Z', 0],
      payload: [null, [], 'text', 3, [{ a: 1 }]],
    };
    for (const [field, bad] of Object.entries(breakers)) {
      for (const b of bad) variants.push({ ...good, [field]: b });
      const missing: Record<string, unknown> = { ...good };
      delete missing[field];
      variants.push(missing);
    }
    variants.push({ ...good, extra: 1 }, null, [], 'e1', 42, Object.create(null));
    for (const v of variants) {
      const fast = validEnvelope(v);
      const zod = envelopeSchema.safeParse(v);
      if (fast) {
        expect(zod.success, JSON.stringify(v)).toBe(true);
        expect(fast).toEqual(zod.data);
      }
    }
    expect(validEnvelope(good)).toEqual(good);
    expect(variants.filter((v) => validEnvelope(v)).length).toBe(2);
  });
});
