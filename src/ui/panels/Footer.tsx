import { Box, Text } from 'ink';
import { useStore } from 'zustand';
import { textWidth } from '../../text/width.js';
import { fit } from '../format.js';
import { fitFooter, footerMinimum, type FooterEntry } from '../keymap.js';
import type { DashboardStore } from '../store.js';
import type { Theme } from '../theme.js';

/** What the filter matches (and, Users focused, what a search of the ids finds), said after the keys where the line has room. */
const FILTER_FIELDS = '(id, user, type, channel, status, reason)';
const SEARCH_FIELDS = '(part of a user id, any case)';
/** The prompt around what is typed: `filter /` (or `search user ids /`) and the cursor. */
const PROMPT = 'filter /';
const SEARCH_PROMPT = 'search user ids /';

/**
 * One line: the filter being typed, a question, or the latest notice, then the key hints from the keymap
 * in the room left. Whatever the width, the hints keep `? help` and how to quit: what comes before them
 * is cut first, and the other hints are left out before them (see fitFooter).
 */
export function Footer({
  store,
  theme,
  entries,
  width,
}: {
  store: DashboardStore;
  theme: Theme;
  entries: readonly FooterEntry[];
  width: number;
}) {
  const notice = useStore(store, (s) => (s.notice && s.now - s.notice.at < 4000 ? s.notice : null));
  const draft = useStore(store, (s) => s.filterDraft);
  const searchingUsers = useStore(store, (s) => s.filterTarget === 'users');
  const question = useStore(store, (s) => s.confirm?.question ?? null);
  // The least room the hints need, and what is left of the line for the text before them.
  const needed = footerMinimum(entries) + 2;
  const hints = (used: number): string => fitFooter(entries, Math.max(0, width - used));
  if (draft !== null) {
    // The end of what is typed stays in view: the prompt shows the last columns of a long filter, in the
    // room all the hints leave (at least 8 columns; the hints then give way, their essential ones last).
    const prompt = searchingUsers ? SEARCH_PROMPT : PROMPT;
    const about = searchingUsers ? SEARCH_FIELDS : FILTER_FIELDS;
    const room = Math.max(8, width - prompt.length - 3 - textWidth(fitFooter(entries, Infinity)));
    const tail = Array.from(draft).slice(-room).join('');
    const typed = fit(tail, room);
    const used = prompt.length + 1 + typed.width + 2;
    const after = `  ${hints(used)}`;
    const fields = used + textWidth(after) + 2 + about.length <= width ? `  ${about}` : '';
    return (
      <Box width={width}>
        <Box flexShrink={0}>
          <Text color={theme.color('yellow')}>{`${prompt}${typed.text}▏`}</Text>
        </Box>
        <Text dimColor wrap="truncate-end">
          {after + fields}
        </Text>
      </Box>
    );
  }
  // What just happened (or is asked) comes first, cut to leave the hints their least room.
  const said = question !== null ? question : notice ? notice.text : null;
  const shown = said === null ? { text: '', width: 0 } : fit(said, Math.max(1, width - needed));
  return (
    <Box width={width}>
      {said !== null ? (
        <Text
          color={theme.color(question === null && notice?.tone === 'error' ? 'red' : 'yellow')}
          bold={question !== null}
          wrap="truncate-end"
        >
          {shown.text}
        </Text>
      ) : null}
      <Text dimColor wrap="truncate-end">
        {said !== null ? `  ${hints(shown.width + 2)}` : hints(0)}
      </Text>
    </Box>
  );
}
