import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import { cell, clock } from '../format.js';
import type { LetterRow } from '../store.js';
import { ScrollView, type ViewLine, type ViewProps } from './ScrollView.js';

const columns = (width: number) => {
  const pos = 10;
  const reason = 15;
  const channel = 8;
  const key = Math.max(8, Math.min(16, Math.floor(width / 8)));
  const source = 10;
  const detail = Math.max(0, width - pos - reason - channel - key - source - 5);
  return { pos, reason, channel, key, source, detail };
};

/** `partition@offset` in the events topic; a letter from another topic names it (replay refuses it). */
function sourceOf(l: LetterRow, eventsTopic: string): string {
  if (l.sourceTopic === null) return l.source ? `?:${l.source}` : '-';
  return l.sourceTopic === eventsTopic ? l.source || '-' : `${l.sourceTopic}:${l.source}`;
}

function row(l: LetterRow, width: number, eventsTopic: string): string {
  const c = columns(width);
  return [
    cell(`${l.partition}/${l.offset}`, c.pos),
    cell(l.reason, c.reason),
    cell(l.channel ?? '-', c.channel),
    cell(l.key ?? '(no key)', c.key),
    cell(sourceOf(l, eventsTopic), c.source),
    cell(l.detail, c.detail),
  ].join(' ');
}

/** Lines of one letter: where it is, why, where from, headers, the value escaped. */
export function letterLines(topic: string, l: LetterRow, width: number): ViewLine[] {
  const lines: ViewLine[] = [
    {
      text: `letter    ${topic}/${l.partition}/${l.offset}  written ${l.writtenAt > 0 ? new Date(l.writtenAt).toISOString() : 'unknown'}`,
    },
    { text: `reason    ${l.reason}`, color: 'magenta' },
    { text: `detail    ${l.detail || '(none)'}` },
    { text: `channel   ${l.channel ?? '-'}` },
    { text: `key       ${l.key ?? '(none)'}` },
    { text: `from      ${l.sourceTopic ?? '(unknown topic)'} ${l.source ? `partition@offset ${l.source}` : ''}` },
    { text: `event id  ${l.eventId ?? '-'}` },
    { text: `failed at ${l.failedAt ?? '-'}` },
    { text: `Headers (${l.headers.length})`, bold: true },
    ...l.headers.map(([name, value]) => ({ text: `  ${name}: ${value}` })),
    {
      text: `Value (${l.valueBytes} bytes${l.valueBytes > 0 && l.value.length < l.valueBytes ? ', the first shown' : ''}, escaped)`,
      bold: true,
    },
  ];
  // The escaped value across lines: all of what is kept shows, none of it as terminal control.
  const chunk = Math.max(10, width - 2);
  for (let i = 0; i < l.value.length; i += chunk) lines.push({ text: `  ${l.value.slice(i, i + chunk)}` });
  if (l.valueBytes === 0) lines.push({ text: '  (no value)', dim: true });
  lines.push({ text: 'R replays it to the events topic (asks y/n) · Esc back to the list', dim: true });
  return lines;
}

/** `d`: the newest dead letters of <topic>.dlq read from Kafka; Enter opens one; R replays it. */
export function DeadLettersView({ store, theme, width, height }: ViewProps) {
  const { dl, view, scroll, confirm } = useStore(
    store,
    useShallow((s) => ({ dl: s.deadLetters, view: s.view, scroll: s.scroll, confirm: s.confirm })),
  );
  const w = Math.max(0, width - 4);
  const topic = dl.topic || `${store.getState().info.topic}.dlq`;
  const selected = dl.letters[dl.cursor];
  if (view === 'letter' && selected) {
    return (
      <ScrollView
        title={`Dead letter ${topic}/${selected.partition}/${selected.offset}`}
        lines={[
          ...(confirm ? [{ text: confirm.question, color: 'yellow', bold: true }] : []),
          ...letterLines(topic, selected, w),
        ]}
        scroll={scroll}
        theme={theme}
        width={width}
        height={height}
      />
    );
  }
  const c = columns(w);
  const header = {
    text: [
      cell('part/off', c.pos),
      cell('reason', c.reason),
      cell('channel', c.channel),
      cell('key', c.key),
      cell('source', c.source),
      cell('detail', c.detail),
    ].join(' '),
  };
  const status: ViewLine[] =
    dl.state === 'loading'
      ? [{ text: dl.message || 'reading…', dim: true }]
      : dl.state === 'error'
        ? [{ text: dl.message, color: 'red' }]
        : dl.letters.length === 0
          ? [{ text: `no dead letters in ${topic}`, dim: true }]
          : [];
  const lines: ViewLine[] = [
    ...(confirm ? [{ text: confirm.question, color: 'yellow', bold: true }] : []),
    ...status,
    ...dl.letters.map((l, i) => ({ text: row(l, w, topic.replace(/\.dlq$/, '')), inverse: i === dl.cursor })),
  ];
  const rows = Math.max(1, height - 4);
  const title =
    dl.state === 'ready'
      ? `Dead letters of ${topic}: newest ${dl.letters.length} of ${dl.inTopic}, newest first, read ${clock(dl.at)} · Enter open · R replay · d reload`
      : `Dead letters of ${topic}`;
  return (
    <ScrollView
      title={title}
      header={header}
      lines={lines}
      scroll={Math.max(0, dl.cursor + lines.length - dl.letters.length - rows + 1)}
      theme={theme}
      width={width}
      height={height}
    />
  );
}
