/**
 * The producer needs the kafkajs patch (patches/kafkajs+2.2.4.patch, applied by the package's
 * postinstall): unpatched, a broker that dies mid-send can leave a batch's partitions that moved to
 * another broker unsent while the send resolves, acknowledged (tulios/kafkajs#1303). An install that
 * skipped its install scripts has no patch: say so and how to fix it, instead of losing events in
 * silence on a cluster's failover.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const MARKER = 'eventstream-tui: acknowledgements are kept per partition';

/** The message to show when the kafkajs in use lacks the patch; undefined when it is patched. */
export function kafkajsPatchProblem(
  file: string = createRequire(import.meta.url).resolve('kafkajs/src/producer/sendMessages.js'),
): string | undefined {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // unreadable: said as unpatched
  }
  if (text.includes(MARKER)) return undefined;
  const root = path.resolve(path.dirname(file), '..', '..', '..', '..');
  return (
    `kafkajs at ${path.resolve(path.dirname(file), '..', '..')} is not patched (src/producer/sendMessages.js): the install skipped its install scripts, ` +
    `so a Kafka broker that dies mid-send can make the producer count events as acknowledged that were never written.\n  Fix: run \`npx patch-package\` in ${root}, ` +
    'or reinstall allowing its scripts (npm install -g --allow-scripts=eventstream-tui eventstream-tui).'
  );
}
