/**
 * Every command a key can ask for, what the help says of it, its footer group and what carries it out
 * (gemini-cli's keyBindings style: commands, then data-only bindings in bindings.ts). COMMAND_INFO and
 * HANDLERS are records over `Command`: a command added without a help line or a handler does not compile.
 */

/** What the keys can ask for; the dashboard's controller carries them out. */
export interface DashboardActions {
  inject(type: string): void;
  toggleChannel(channel: string): void;
  /** Users focused: the selected user; a row panel: its cursor; a view: its cursor or its scroll. */
  moveSelection(delta: number): void;
  togglePause(): void;
  changeRate(direction: 1 | -1): void;
  toggleHelp(): void;
  /** Closes the top overlay (help, detail, view, filter being typed, question); else clears the filter. */
  closeOverlay(): void;
  quit(): void;
  moveFocus(direction: 1 | -1): void;
  /** Enter: the detail of the row under the cursor, or of the selected dead letter; Users focused: the preferences editor. */
  openDetail(): void;
  /** ←→ in a view with columns (the preferences editor): the cell cursor. */
  moveAcross(direction: 1 | -1): void;
  /** Space in the preferences editor: the cell under the cursor changed, in Redis at once. */
  toggleCell(): void;
  openScheduled(): void;
  startFilter(): void;
  typeFilter(text: string): void;
  eraseFilter(): void;
  applyFilter(): void;
  openDeadLetters(): void;
  openPartitions(): void;
  exportRows(): void;
  /** R: asks to replay the selected dead letter; `answer` is the y/n. */
  replayLetter(): void;
  answer(yes: boolean): void;
}

/** Rows PgUp / PgDn move. */
export const PAGE = 10;

/** The commands, one per line of the help. `inject` and `toggle-channel` carry an argument (a type, a channel). */
export const Command = {
  Inject: 'inject',
  MoveUp: 'move-up',
  MoveDown: 'move-down',
  MoveLeft: 'move-left',
  MoveRight: 'move-right',
  PageUp: 'page-up',
  PageDown: 'page-down',
  ToggleChannel: 'toggle-channel',
  FocusNext: 'focus-next',
  FocusPrevious: 'focus-previous',
  OpenDetail: 'open-detail',
  OpenLetter: 'open-letter',
  ToggleCell: 'toggle-cell',
  StartFilter: 'start-filter',
  TypeFilter: 'type-filter',
  EraseFilter: 'erase-filter',
  ApplyFilter: 'apply-filter',
  OpenDeadLetters: 'open-dead-letters',
  ReplayLetter: 'replay-letter',
  AnswerYes: 'answer-yes',
  AnswerNo: 'answer-no',
  OpenPartitions: 'open-partitions',
  OpenScheduled: 'open-scheduled',
  ExportRows: 'export-rows',
  TogglePause: 'toggle-pause',
  RateUp: 'rate-up',
  RateDown: 'rate-down',
  ToggleHelp: 'toggle-help',
  Close: 'close',
  Quit: 'quit',
  QuitTyping: 'quit-typing',
} as const;
export type Command = (typeof Command)[keyof typeof Command];

export interface CommandInfo {
  /** The help's line; a function for a command with an argument, given the argument's label. */
  help: string | ((label: string) => string);
  /** Footer group: the keys of one group share a footer entry. */
  group: string;
  /** false: listed in the help only, not in the footer's one line. */
  footer?: false;
}

export const COMMAND_INFO: Record<Command, CommandInfo> = {
  [Command.Inject]: { help: (type) => `inject ${type} for the selected user`, group: 'inject' },
  [Command.MoveUp]: {
    help: 'Users: select the previous user; Event stream, Deliveries: cursor up; views and help: up',
    group: 'move',
  },
  [Command.MoveDown]: {
    help: 'Users: select the next user; Event stream, Deliveries: cursor down (holds the panel); views: down',
    group: 'move',
  },
  [Command.MoveLeft]: { help: 'preferences editor: the previous channel (column)', group: 'move' },
  [Command.MoveRight]: { help: 'preferences editor: the next channel (column)', group: 'move' },
  [Command.PageUp]: {
    help: 'a page up: Users (a million users page through in scan order), rows, views and help',
    group: 'move',
    footer: false,
  },
  [Command.PageDown]: { help: 'a page down', group: 'move', footer: false },
  [Command.ToggleChannel]: {
    help: (label) => `toggle ${label} for the selected user (writes prefs:<id> in Redis)`,
    group: 'toggle',
  },
  [Command.FocusNext]: { help: 'focus the next panel: Users, Event stream, Deliveries', group: 'focus' },
  [Command.FocusPrevious]: { help: 'focus the previous panel', group: 'focus', footer: false },
  [Command.OpenDetail]: {
    help: "Users: the user's preferences editor; Event stream, Deliveries: the row's detail and trace",
    group: 'detail',
  },
  [Command.ToggleCell]: {
    help: 'editor: channel on/off; type cell default > off > on > default; required cells refuse (written at once)',
    group: 'toggle',
  },
  [Command.OpenLetter]: { help: 'the selected dead letter: value (escaped) and headers', group: 'open' },
  [Command.StartFilter]: {
    help: 'Users focused: search user ids; else filter the rows: id, user, type, channel, status, reason',
    group: 'filter',
  },
  [Command.TypeFilter]: { help: 'type the filter (case-insensitive substring)', group: 'type', footer: false },
  [Command.EraseFilter]: { help: 'erase the last character of the filter', group: 'type', footer: false },
  [Command.ApplyFilter]: { help: 'apply the filter', group: 'apply' },
  [Command.OpenDeadLetters]: {
    help: 'dead letters of <topic>.dlq, newest first, read from Kafka (in the view: read again)',
    group: 'dlq',
  },
  [Command.ReplayLetter]: {
    help: 'replay the selected dead letter to the events topic (asks y/n; a letter from another topic is refused)',
    group: 'replay',
  },
  [Command.AnswerYes]: { help: 'yes: do it', group: 'answer' },
  [Command.AnswerNo]: { help: 'no: leave it', group: 'answer' },
  [Command.OpenPartitions]: {
    help: 'partitions: committed and end offsets, lag, owner, events/s, leader, replicas, in-sync replicas',
    group: 'partitions',
  },
  [Command.OpenScheduled]: {
    help: 'scheduled: pending deferred sends (quiet hours), soonest due first (in the view: read again)',
    group: 'scheduled',
  },
  [Command.ExportRows]: {
    help: 'export the stream and deliveries, as filtered, to eventstream-export-<time>.jsonl',
    group: 'export',
  },
  [Command.TogglePause]: { help: 'pause / resume the scheduled producer', group: 'pause' },
  [Command.RateUp]: { help: 'raise the producer rate', group: 'rate' },
  [Command.RateDown]: { help: 'lower the producer rate', group: 'rate' },
  [Command.ToggleHelp]: { help: 'show / hide this help', group: 'help' },
  [Command.Close]: {
    help: 'close the help, detail or a view; typing a filter: clear it; else clear the filter or user search',
    group: 'close',
    footer: false,
  },
  [Command.Quit]: {
    help: 'quit: stop producing, settle and commit the batch in flight, disconnect',
    group: 'quit',
  },
  [Command.QuitTyping]: {
    help: 'quit, also while typing a filter or answering y/n (where q is a letter)',
    group: 'quit',
  },
};

/**
 * Carries a command out. `arg`: the binding's argument (an event type, a channel) or, for a binding
 * without one, the text typed.
 */
export type Handler = (actions: DashboardActions, arg: string) => void;

export const HANDLERS: Record<Command, Handler> = {
  [Command.Inject]: (a, type) => a.inject(type),
  [Command.MoveUp]: (a) => a.moveSelection(-1),
  [Command.MoveDown]: (a) => a.moveSelection(1),
  [Command.MoveLeft]: (a) => a.moveAcross(-1),
  [Command.MoveRight]: (a) => a.moveAcross(1),
  [Command.PageUp]: (a) => a.moveSelection(-PAGE),
  [Command.PageDown]: (a) => a.moveSelection(PAGE),
  [Command.ToggleChannel]: (a, channel) => a.toggleChannel(channel),
  [Command.FocusNext]: (a) => a.moveFocus(1),
  [Command.FocusPrevious]: (a) => a.moveFocus(-1),
  [Command.OpenDetail]: (a) => a.openDetail(),
  [Command.OpenLetter]: (a) => a.openDetail(),
  [Command.ToggleCell]: (a) => a.toggleCell(),
  [Command.StartFilter]: (a) => a.startFilter(),
  [Command.TypeFilter]: (a, text) => a.typeFilter(text),
  [Command.EraseFilter]: (a) => a.eraseFilter(),
  [Command.ApplyFilter]: (a) => a.applyFilter(),
  [Command.OpenDeadLetters]: (a) => a.openDeadLetters(),
  [Command.ReplayLetter]: (a) => a.replayLetter(),
  [Command.AnswerYes]: (a) => a.answer(true),
  [Command.AnswerNo]: (a) => a.answer(false),
  [Command.OpenPartitions]: (a) => a.openPartitions(),
  [Command.OpenScheduled]: (a) => a.openScheduled(),
  [Command.ExportRows]: (a) => a.exportRows(),
  [Command.TogglePause]: (a) => a.togglePause(),
  [Command.RateUp]: (a) => a.changeRate(1),
  [Command.RateDown]: (a) => a.changeRate(-1),
  [Command.ToggleHelp]: (a) => a.toggleHelp(),
  [Command.Close]: (a) => a.closeOverlay(),
  [Command.Quit]: (a) => a.quit(),
  [Command.QuitTyping]: (a) => a.quit(),
};
