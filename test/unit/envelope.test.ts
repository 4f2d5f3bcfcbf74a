import { describe, expect, it } from 'vitest';
import { decodeEvent } from '../../src/domain/envelope.js';

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
});
