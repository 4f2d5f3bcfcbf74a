/** The lines of an event's detail: the message, its payload pretty-printed, and its trace. */
import type { EventDetail } from '../../telemetry/event-details.js';
import { DETAIL_EVENTS } from '../../telemetry/event-details.js';
import { STATUS_COLOR } from '../theme.js';
import type { DetailRequest } from '../store.js';
import type { ViewLine } from './ScrollView.js';

/** Longest string value shown in the payload; longer ones are cut with an ellipsis. */
const VALUE_CHARS = 200;

const iso = (ms: number): string => (ms > 0 ? new Date(ms).toISOString() : 'unknown');

/** The payload, pretty-printed with long values cut; or the value as text when it is not JSON whole. */
export function payloadLines(value: string, valueBytes: number): ViewLine[] {
  if (valueBytes === 0) return [{ text: '  (no value)', dim: true }];
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    const cut = value.length < valueBytes ? ` (first ${value.length} of ${valueBytes} bytes)` : '';
    return [{ text: `  not JSON as kept${cut}:`, dim: true }, { text: `  ${JSON.stringify(value)}` }];
  }
  const payload =
    parsed !== null && typeof parsed === 'object' && 'payload' in parsed
      ? (parsed as { payload: unknown }).payload
      : parsed;
  const text = JSON.stringify(
    payload,
    (_k, v: unknown) => (typeof v === 'string' && v.length > VALUE_CHARS ? `${v.slice(0, VALUE_CHARS)}…` : v),
    2,
  );
  return (text ?? 'null').split('\n').map((l) => ({ text: `  ${l}` }));
}

function traceLines(d: EventDetail): ViewLine[] {
  const lines: ViewLine[] = [{ text: 'Trace', bold: true }];
  if (d.lookup) {
    const on = d.lookup.channelsOn.length > 0 ? d.lookup.channelsOn.join(', ') : 'none';
    lines.push({
      text: `  Redis look-up  user ${d.lookup.found ? 'found' : 'unknown'} · channels on: ${on} · ${d.lookup.latencyMs} ms`,
      color: d.lookup.found ? 'green' : 'yellow',
    });
  } else if (d.eventId) {
    lines.push({ text: '  Redis look-up  not done yet', dim: true });
  }
  for (const t of d.deliveries) {
    const attempts = `${t.attempts} attempt${t.attempts === 1 ? '' : 's'}`;
    const reason = (t.reason ? ` ${t.reason}` : '') + (t.detail ? `: ${t.detail}` : '');
    const status = t.deferred ? `${t.status} (deferred)` : t.status;
    lines.push({
      text: `  ${t.channel.padEnd(8)} ${status}${reason} · ${attempts} · ${t.latencyMs} ms${t.address ? ` · to ${t.address}` : ''}`,
      color: STATUS_COLOR[t.status],
    });
    if (t.rule) lines.push({ text: `           rule: ${t.rule}`, dim: true });
    if (t.prefsInvalid?.length)
      lines.push({ text: `           prefs-invalid: ${t.prefsInvalid.join(', ')} (ignored)`, color: 'yellow' });
    if (t.status === 'sent' && t.text) lines.push({ text: `           accepted: ${t.text}`, dim: true });
    if (t.status === 'digested' && t.text) lines.push({ text: `           instead of: ${t.text}`, dim: true });
  }
  if (d.eventId && d.deliveries.length === 0) lines.push({ text: '  no channel settled yet', dim: true });
  if (d.members) {
    const more = d.members.total - d.members.ids.length;
    lines.push({ text: `  a digest of ${d.members.total} event${d.members.total === 1 ? '' : 's'}:`, bold: true });
    for (const id of d.members.ids) lines.push({ text: `    ${id}`, dim: true });
    if (more > 0) lines.push({ text: `    and ${more} more`, dim: true });
  }
  if (d.deadLetter) {
    lines.push({
      text: `  dead-lettered: ${d.deadLetter.reason}${d.deadLetter.detail ? ` · ${d.deadLetter.detail}` : ''}`,
      color: 'magenta',
    });
  }
  return lines;
}

export function detailLines(request: DetailRequest): ViewLine[] {
  const d = request.data;
  if (!d) {
    const f = request.from;
    return [
      {
        text: `The outcomes of this event are no longer in memory (the dashboard keeps the newest ${DETAIL_EVENTS.toLocaleString('en-US')} events).`,
        color: 'yellow',
      },
      ...(f.eventId ? [{ text: `event id  ${f.eventId}` }] : []),
      ...(f.type ? [{ text: `type      ${f.type}` }] : []),
      ...(f.userId ? [{ text: `user      ${f.userId}` }] : []),
      ...(f.where ? [{ text: `at        ${f.where}` }] : []),
    ];
  }
  const lines: ViewLine[] = [];
  if (d.members) {
    // A digest: no message of its own; its members are the events it was made of.
    lines.push(
      { text: `digest    ${d.eventId}` },
      { text: `type      ${d.type}` },
      { text: `user      ${d.userId}` },
      ...traceLines(d),
    );
    return lines;
  }
  if (d.eventId) {
    lines.push({ text: `event id  ${d.eventId}` }, { text: `type      ${d.type}` }, { text: `user      ${d.userId}` });
  } else {
    lines.push({
      text: 'a message that never became an event (it was dead-lettered as it was read)',
      color: 'magenta',
    });
  }
  lines.push(
    { text: `topic     ${d.topic}  partition ${d.partition}  offset ${d.offset}` },
    { text: `key       ${d.messageKey === null ? '(none)' : d.messageKey}` },
  );
  if (d.eventId) {
    lines.push({
      text: `produced  ${iso(d.timestamp)}${d.timestamp > 0 ? `  (consumed ${Math.max(0, d.consumedAt - d.timestamp)} ms later)` : ''}`,
    });
    lines.push({ text: `headers   ${d.headers.length === 0 ? '(none)' : ''}` });
    for (const [name, value] of d.headers) lines.push({ text: `  ${name}: ${value}` });
    lines.push({ text: `Payload (${d.valueBytes} bytes)`, bold: true }, ...payloadLines(d.value, d.valueBytes));
  }
  lines.push(...traceLines(d));
  return lines;
}
