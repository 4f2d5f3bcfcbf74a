import { useMemo } from 'react';
import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import { detailLines } from './detail-lines.js';
import { Command } from '../keys/commands.js';
import { ScrollView, type ViewProps } from './ScrollView.js';
import type { ViewDescriptor } from './view.js';

/** Enter on a stream or delivery row: the event, its payload and its trace, kept current while open. */
export function DetailView({ store, theme, width, height }: ViewProps) {
  const { detail, scroll } = useStore(
    store,
    useShallow((s) => ({ detail: s.detail, scroll: s.scroll })),
  );
  const lines = useMemo(() => (detail ? detailLines(detail) : []), [detail]);
  if (!detail) return null;
  const name = detail.data?.eventId || detail.from.eventId || detail.key;
  return (
    <ScrollView
      title={`Event ${name} · Esc close`}
      lines={lines}
      scroll={scroll}
      theme={theme}
      width={width}
      height={height}
    />
  );
}

export const detailView: ViewDescriptor<'detail'> = {
  id: 'detail',
  title: 'the event under the cursor: message, look-up, deliveries',
  opens: Command.OpenDetail,
  component: DetailView,
  scrollLimit: (s) => (s.detail ? detailLines(s.detail).length - (s.viewport.rows - 3) : 0),
};
