/**
 * Events the broker never acknowledged when the producer stopped: never dropped in silence. They are
 * counted and named on stderr and written to a file, one event a line, ready to produce again (the
 * consumer dedupes by event id, so one that did land after all is not delivered twice).
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeEvent, type EventEnvelope } from '../domain/envelope.js';
import { sanitize } from '../text/sanitize.js';
import { EXIT } from './exit-codes.js';

const NAMED = 5;

/** Writes the report (nothing when none was lost) and returns the exit code it implies. */
export function reportUnacknowledged(
  events: readonly EventEnvelope[],
  where: { brokers: string; topic: string },
  err: NodeJS.WritableStream = process.stderr,
  dir = process.cwd(),
): number {
  if (events.length === 0) return EXIT.ok;
  const name = `eventstream-unacknowledged-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`;
  const body = events.map((e) => `${encodeEvent(e).toString('utf8')}\n`).join('');
  let file: string | undefined;
  for (const folder of [dir, os.tmpdir()]) {
    try {
      writeFileSync(path.join(folder, name), body, { mode: 0o600 });
      file = path.join(folder, name);
      break;
    } catch {
      // not writable here: try the next folder
    }
  }
  const ids = events
    .slice(0, NAMED)
    .map((e) => sanitize(e.id))
    .join(', ');
  const more = events.length > NAMED ? ` and ${events.length - NAMED} more` : '';
  err.write(
    `error: ${events.length} produced event(s) were never acknowledged by Kafka: ${ids}${more}\n` +
      (file
        ? `  all ${events.length} written to ${file}; produce them again with: kcat -P -b ${where.brokers} -t ${where.topic} -l ${file}\n`
        : `  could not write them to a file in ${dir} or ${os.tmpdir()}\n`),
  );
  return EXIT.unacknowledged;
}
