/**
 * Headless output: JSON lines on stdout (one per outcome, or one stats line per
 * second), the human-readable lines of echoed channels (console) and logs on stderr. Every line is
 * terminal-safe: JSON through {@link safeJson}, human text through sanitize.
 */
import { localClock } from '../domain/duration.js';
import type { ChannelDefinition } from '../domain/channels/channel.js';
import { onCrash } from '../pipeline/crash-point.js';
import { safeJson } from '../text/safe-json.js';
import { sanitize } from '../text/sanitize.js';
import type { Outcome } from '../telemetry/outcomes.js';
import { COUNTED_KINDS, countInto, emptyTotals, type OutcomeKind, type Telemetry } from '../telemetry/telemetry.js';

export type OutputMode = 'lines' | 'stats' | 'none';

/** The contract's fields for each kind printed in `lines` mode (docs/contracts.md, "Headless output"). */
export function toLine(o: Outcome): Record<string, unknown> | undefined {
  switch (o.kind) {
    case 'delivery': {
      const line: Record<string, unknown> = {
        kind: o.kind,
        eventId: o.eventId,
        type: o.type,
        userId: o.userId,
        channel: o.channel,
        status: o.status,
        reason: o.reason,
        latencyMs: o.latencyMs,
        attempts: o.attempts,
      };
      if (o.dueAt !== undefined) line.dueAt = new Date(o.dueAt).toISOString();
      // Parked while its transport is down: since when (its hold, `--outage-hold`, counts from then).
      if (o.since !== undefined) line.since = new Date(o.since).toISOString();
      if (o.deferred) line.deferred = true;
      if (o.digestId !== undefined) line.digestId = o.digestId;
      if (o.members !== undefined) line.members = o.members;
      if (o.detail !== undefined) line.detail = o.detail;
      if (o.prefsInvalid) line.warning = `prefs-invalid: ${o.prefsInvalid.join(', ')}`;
      return line;
    }
    case 'produced':
      return { kind: o.kind, eventId: o.eventId, type: o.type, userId: o.userId };
    case 'lookup':
      return {
        kind: o.kind,
        eventId: o.eventId,
        userId: o.userId,
        found: o.found,
        channelsOn: o.channelsOn,
        latencyMs: o.latencyMs,
      };
    case 'deadletter':
      return {
        kind: o.kind,
        reason: o.reason,
        detail: o.detail,
        topic: o.topic,
        partition: o.partition,
        offset: o.offset,
        key: o.key,
      };
    case 'error':
      return { kind: o.kind, source: o.source, message: o.message };
    default:
      return undefined;
  }
}

/** The kinds {@link toLine} prints. */
const LINE_KINDS: readonly OutcomeKind[] = ['delivery', 'produced', 'lookup', 'deadletter', 'error'];

/** Writes gathered within one turn of the event loop go out as one write. */
function bufferedWriter(stream: NodeJS.WritableStream): { write(text: string): void; flush(): void } {
  let pending: string[] = [];
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = pending.join('');
    pending = [];
    stream.write(text);
  };
  return {
    write: (text) => {
      pending.push(text);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}

/** Error lines on stderr per second, at most: a flood is summed up, never hidden. */
const ERROR_LINES_PER_SECOND = 5;

/**
 * Every error, in every output mode, as one line on stderr: `error: <source>: <message>`. Past
 * {@link ERROR_LINES_PER_SECOND} in a second the rest are counted, and the count is said once the
 * second is over (or at stop).
 */
function errorLines(
  write: (text: string) => void,
  now: () => number = Date.now,
): { add(o: Outcome): void; flush(): void } {
  let windowStart = 0;
  let shown = 0;
  let suppressed = 0;
  const summarize = (): void => {
    if (suppressed === 0) return;
    write(`error: ${suppressed} more error(s) in that second not shown (the stats line counts them all)\n`);
    suppressed = 0;
  };
  return {
    add: (o) => {
      if (o.kind !== 'error') return;
      const t = now();
      if (t - windowStart >= 1000) {
        summarize();
        windowStart = t;
        shown = 0;
      }
      if (shown < ERROR_LINES_PER_SECOND) {
        shown++;
        write(`error: ${o.source}: ${sanitize(o.message)}\n`);
      } else {
        suppressed++;
      }
    },
    flush: summarize,
  };
}

export interface HeadlessPrinter {
  stop(): void;
}

/** `channels`: the catalog's; those `echoed` print each message they send on stderr. */
export function attachHeadlessOutput(
  telemetry: Telemetry,
  mode: OutputMode,
  channels: readonly ChannelDefinition[],
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
  /** The consumer's `connection` and `assignment` lines on stderr: info-level, hidden by LOG_LEVEL=warn and above. */
  statusLines = true,
): HeadlessPrinter {
  const unsubscribes: (() => void)[] = [];
  // Lines are gathered and written once per turn of the event loop: a batch of thousands of outcomes
  // is one write per stream, not one each.
  const errBuffer = bufferedWriter(err);
  const outBuffer = bufferedWriter(out);
  // An echoed channel's (console's) human-readable line goes to stderr in every mode.
  const echoed = new Set(channels.filter((c) => c.echoed).map((c) => c.name));
  unsubscribes.push(
    telemetry.subscribe(
      (o) => {
        if (o.kind === 'delivery' && echoed.has(o.channel) && o.status === 'sent') {
          errBuffer.write(`[${o.channel}] ${sanitize(o.address ?? o.userId)}: ${sanitize(o.text ?? '')}\n`);
        } else if (statusLines && (o.kind === 'connection' || o.kind === 'assignment')) {
          errBuffer.write(`${safeJson({ level: 'info', ...o })}\n`);
        }
      },
      ['delivery', 'connection', 'assignment'],
    ),
  );
  const errors = errorLines((text) => errBuffer.write(text));
  unsubscribes.push(telemetry.subscribe(errors.add, ['error']));
  unsubscribes.push(errBuffer.flush, outBuffer.flush, errors.flush);
  unsubscribes.push(
    onCrash(() => {
      errBuffer.flush();
      outBuffer.flush();
    }),
  );
  let timer: NodeJS.Timeout | undefined;
  if (mode === 'lines') {
    unsubscribes.push(
      telemetry.subscribe((o) => {
        const line = toLine(o);
        if (line) outBuffer.write(`${safeJson(line)}\n`);
      }, LINE_KINDS),
    );
  } else if (mode === 'stats') {
    const totals = emptyTotals();
    let backlog = 0;
    let scheduled = 0;
    // Each channel's transport: `{"via":"mock"}` or `{"via":"smtp://mail:25","answers":true}`.
    // Down: `{"via":"smtp://mail:25","answers":false,"state":"unreachable since 12:01","since":"…ISO…"}`.
    const transports: Record<string, { via: string; answers?: boolean | null; state?: string; since?: string }> = {};
    unsubscribes.push(telemetry.subscribe(countInto(totals), COUNTED_KINDS));
    unsubscribes.push(
      telemetry.subscribe(
        (o) => {
          if (o.kind === 'backlog') backlog = o.unacknowledged;
          else if (o.kind === 'schedule') scheduled = o.pending;
          else if (o.kind === 'transport')
            transports[o.channel] =
              o.answers === undefined
                ? { via: o.via }
                : o.answers === false && o.since !== undefined
                  ? {
                      via: o.via,
                      answers: false,
                      state: `unreachable since ${localClock(o.since)}`,
                      since: new Date(o.since).toISOString(),
                    }
                  : { via: o.via, answers: o.answers };
        },
        ['backlog', 'schedule', 'transport'],
      ),
    );
    const print = (): void => {
      const {
        produced,
        consumed,
        sent,
        skipped,
        duplicate,
        failed,
        deferred,
        throttled,
        parked,
        digested,
        deadletter,
      } = totals;
      out.write(
        `${JSON.stringify({ kind: 'stats', produced, consumed, sent, skipped, duplicate, failed, deferred, scheduled, throttled, parked, digested, deadletter, errors: totals.errors, backlog, transports })}\n`,
      );
    };
    timer = setInterval(print, 1000);
    unsubscribes.push(print);
  }
  return {
    stop: () => {
      if (timer) clearInterval(timer);
      for (const u of unsubscribes.reverse()) u();
    },
  };
}
