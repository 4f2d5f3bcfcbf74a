import { Box, Text } from 'ink';
import { useStore } from 'zustand';
import { truncate } from '../format.js';
import type { DashboardStore } from '../store.js';
import type { Theme } from '../theme.js';
import { sanitize } from '../../text/sanitize.js';

/** One line: the key hint from the keymap, and the latest notice. */
export function Footer({
  store,
  theme,
  hint,
  width,
}: {
  store: DashboardStore;
  theme: Theme;
  hint: string;
  width: number;
}) {
  const notice = useStore(store, (s) => (s.notice && s.now - s.notice.at < 4000 ? s.notice : null));
  const room = Math.max(0, width - hint.length - 2);
  return (
    <Box width={width}>
      <Text dimColor wrap="truncate-end">
        {truncate(hint, width)}
      </Text>
      {notice && room > 8 ? (
        <Text color={theme.color(notice.tone === 'error' ? 'red' : 'yellow')} wrap="truncate-end">
          {`  ${truncate(sanitize(notice.text), room)}`}
        </Text>
      ) : null}
    </Box>
  );
}
