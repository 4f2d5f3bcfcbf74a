import { Box, Text } from 'ink';
import { useStore } from 'zustand';
import { fit, truncate } from '../format.js';
import type { DashboardStore } from '../store.js';
import type { Theme } from '../theme.js';

/** One line: the latest notice, whole where it fits, then the key hint from the keymap in the room left. */
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
  const draft = useStore(store, (s) => s.filterDraft);
  const searchingUsers = useStore(store, (s) => s.filterTarget === 'users');
  const question = useStore(store, (s) => s.confirm?.question ?? null);
  if (draft !== null) {
    // The end of what is typed stays in view: the prompt shows the last columns of a long filter.
    const tail = Array.from(draft)
      .slice(-Math.max(1, width - 40))
      .join('');
    return (
      <Box width={width}>
        <Box flexShrink={0}>
          <Text color={theme.color('yellow')} wrap="truncate-end">
            {`${searchingUsers ? 'search user ids' : 'filter'} /${fit(tail, Math.max(1, width - 36)).text}▏`}
          </Text>
        </Box>
        <Text dimColor wrap="truncate-end">
          {searchingUsers
            ? '  Enter search  Esc clear  (part of an id, any case)'
            : '  Enter apply  Esc clear  (id, user, type, channel, status, reason)'}
        </Text>
      </Box>
    );
  }
  if (question !== null) {
    return (
      <Box width={width}>
        <Text color={theme.color('yellow')} bold wrap="truncate-end">
          {fit(question, width).text}
        </Text>
      </Box>
    );
  }
  // What just happened matters more than the hint, which is back when the notice goes (and always under ?).
  const said = notice ? fit(notice.text, width) : { text: '', width: 0 };
  const room = Math.max(0, width - said.width - 2);
  return (
    <Box width={width}>
      {notice ? (
        <Text color={theme.color(notice.tone === 'error' ? 'red' : 'yellow')} wrap="truncate-end">
          {said.text}
        </Text>
      ) : null}
      <Text dimColor wrap="truncate-end">
        {notice ? (room > 8 ? `  ${truncate(hint, room)}` : '') : truncate(hint, width)}
      </Text>
    </Box>
  );
}
