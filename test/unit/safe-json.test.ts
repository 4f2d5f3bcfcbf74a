import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { attachHeadlessOutput } from '../../src/cli/headless-output.js';
import { Telemetry } from '../../src/telemetry/telemetry.js';
import { safeJson } from '../../src/text/safe-json.js';

// What a terminal or a log viewer could be driven by, in a printed JSON line.
const DRIVING = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

// The same, newlines between lines excepted.
const DRIVING_OR_NEWLINE =
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe('headless JSON lines: valid JSON with the same values, nothing that drives a terminal', () => {
  const hostile = [
    ['C1 CSI (clears the screen on a VT220-style terminal)', 'a\u009b2Jb'],
    ['every C1 control and DEL', String.fromCharCode(...Array.from({ length: 33 }, (_, i) => 0x7f + i))],
    ['line and paragraph separators', 'one\u2028two\u2029three'],
    [
      'bidi marks, embeddings, overrides and isolates',
      '\u200e\u200f\u202a\u202b\u202c\u202d\u202egnp.exe\u2066\u2067\u2068\u2069',
    ],
    ['C0 controls and ESC', '\u001b[31mred\u0007\r\n'],
    ['a lone surrogate', 'x\ud800y'],
  ] as const;

  it.each(hostile)('%s: escaped as \\uXXXX', (_name, text) => {
    const line = safeJson({ kind: 'delivery', userId: text, nested: [{ text }] });
    expect(line).not.toMatch(DRIVING);
    expect(JSON.parse(line)).toEqual({ kind: 'delivery', userId: text, nested: [{ text }] });
  });

  it('escapes with the code point, lower case like JSON.stringify', () => {
    expect(safeJson({ s: 'a\u0085b\u202ec' })).toBe('{"s":"a\\u0085b\\u202ec"}');
  });

  it('leaves ordinary text, accents and emoji as they are', () => {
    const value = { name: 'Grüße, José 🎉 — ok', n: 1 };
    expect(safeJson(value)).toBe(JSON.stringify(value));
  });

  it('the headless printer writes hostile Kafka and Redis strings as safe lines on stdout', () => {
    const telemetry = new Telemetry();
    let stdout = '';
    const out = new Writable({
      write(chunk: Buffer, _encoding, done) {
        stdout += chunk.toString();
        done();
      },
    });
    const printer = attachHeadlessOutput(
      telemetry,
      'lines',
      [],
      out,
      new Writable({ write: (_c, _e, done) => done() }),
    );
    const detail = 'userId \u009b2J\u202egnp.exe\u2028';
    telemetry.publish({
      kind: 'deadletter',
      reason: 'schema',
      detail,
      topic: 't',
      partition: 0,
      offset: '1',
      key: 'k\u0085',
      at: 0,
    });
    telemetry.publish({ kind: 'error', source: 'redis', message: 'ERR \u009d0;title\u009c', at: 0 });
    printer.stop();
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(stdout).not.toMatch(DRIVING_OR_NEWLINE);
    expect(JSON.parse(lines[0]!)).toMatchObject({ kind: 'deadletter', detail, key: 'k\u0085' });
    expect(JSON.parse(lines[1]!)).toMatchObject({ kind: 'error', message: 'ERR \u009d0;title\u009c' });
  });
});
