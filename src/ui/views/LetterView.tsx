import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import { Command } from '../keys/commands.js';
import type { LetterRow } from '../store.js';
import { DeadLettersView } from './DeadLettersView.js';
import { ScrollView, type ViewLine, type ViewProps } from './ScrollView.js';
import type { ViewDescriptor } from './view.js';

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

/** Enter over the dead letters: the selected letter whole; R replays it. The list while none is selected. */
export function LetterView({ store, theme, width, height }: ViewProps) {
  const { dl, scroll, confirm } = useStore(
    store,
    useShallow((s) => ({ dl: s.deadLetters, scroll: s.scroll, confirm: s.confirm })),
  );
  const topic = dl.topic || `${store.getState().info.topic}.dlq`;
  const selected = dl.letters[dl.cursor];
  if (!selected) return <DeadLettersView store={store} theme={theme} width={width} height={height} />;
  return (
    <ScrollView
      title={`Dead letter ${topic}/${selected.partition}/${selected.offset}`}
      lines={[
        ...(confirm ? [{ text: confirm.question, color: 'yellow', bold: true }] : []),
        ...letterLines(topic, selected, Math.max(0, width - 4)),
      ]}
      scroll={scroll}
      theme={theme}
      width={width}
      height={height}
    />
  );
}

export const letterView: ViewDescriptor<'letter'> = {
  id: 'letter',
  title: 'one dead letter: value (escaped) and headers',
  opens: Command.OpenLetter,
  component: LetterView,
  scrollLimit: (s) => {
    const letter = s.deadLetters.letters[s.deadLetters.cursor];
    if (!letter) return 0;
    const lines = letterLines(s.deadLetters.topic, letter, s.viewport.columns - 4).length;
    return lines + (s.confirm ? 1 : 0) - (s.viewport.rows - 3);
  },
  // Esc: back to the list.
  close: () => ({ view: 'deadletters', scroll: 0 }),
};
