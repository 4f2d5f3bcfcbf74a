import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import { cell, clock } from '../format.js';
import type { LetterRow } from '../store.js';
import { Command } from '../keys/commands.js';
import { movedCursor, ScrollView, statusLines, type ViewLine, type ViewProps } from './ScrollView.js';
import type { ViewDescriptor } from './view.js';

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

/** `d`: the newest dead letters of <topic>.dlq read from Kafka; Enter opens one (LetterView); R replays it. */
export function DeadLettersView({ store, theme, width, height }: ViewProps) {
  const { dl, confirm } = useStore(
    store,
    useShallow((s) => ({ dl: s.deadLetters, confirm: s.confirm })),
  );
  const w = Math.max(0, width - 4);
  const topic = dl.topic || `${store.getState().info.topic}.dlq`;
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
  const status = statusLines(dl, dl.letters.length, `no dead letters in ${topic}`);
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

export const deadLettersView: ViewDescriptor<'deadletters'> = {
  id: 'deadletters',
  title: 'the newest dead letters of <topic>.dlq',
  opens: Command.OpenDeadLetters,
  component: DeadLettersView,
  // ↑↓ move the cursor over the letters, not a scroll.
  move: (s, delta) => ({
    deadLetters: { ...s.deadLetters, cursor: movedCursor(s.deadLetters.cursor, delta, s.deadLetters.letters.length) },
  }),
};
