/**
 * The keys, as data: which key asks for which command, and in which modes. They feed the input handler,
 * the `?` help overlay and the footer hint, so what the screen promises is what the keys do. Event-type
 * and channel keys come from the catalog: one binding each, carrying the type or channel as argument.
 */
import type { Key } from 'ink';
import type { DashboardState, ChannelInfo, EventTypeInfo } from '../store.js';
import { VIEW_IDS, type ViewId } from '../views/registry.js';
import { Command, COMMAND_INFO, HANDLERS, type DashboardActions } from './commands.js';

/**
 * Which keys act: the panels (main), the filter being typed, a question waiting for y/n, the help, or
 * one of the views over the panels (src/ui/views/registry.ts).
 */
export type KeyMode = 'main' | 'filter' | 'confirm' | 'help' | ViewId;

/** The mode the keys are in, from what the screen shows. */
export function keyMode(s: Pick<DashboardState, 'filterDraft' | 'confirm' | 'help' | 'view'>): KeyMode {
  if (s.filterDraft !== null) return 'filter';
  if (s.confirm) return 'confirm';
  if (s.help) return 'help';
  return s.view;
}

/** Keys Ink names (a flag of its `Key`). */
export type KeyName =
  | 'upArrow'
  | 'downArrow'
  | 'leftArrow'
  | 'rightArrow'
  | 'pageUp'
  | 'pageDown'
  | 'tab'
  | 'return'
  | 'escape'
  | 'backspace'
  | 'delete';

/**
 * One key, as data: a character typed without Ctrl or Alt; a named key (with or without Shift where
 * `shift` is given); Ctrl and a letter; or any printable text (the filter being typed).
 */
export type KeySpec = { char: string } | { key: KeyName; shift?: boolean } | { ctrl: string } | 'printable';

export interface KeyBinding {
  /** How the key is written in the help and footer. */
  keys: string;
  /** Any of these. */
  match: readonly KeySpec[];
  command: Command;
  /** The command's argument (an event type, a channel name); absent: the text typed. */
  arg?: string;
  /** How the help names the argument (a channel's label); the argument itself when absent. */
  argLabel?: string;
  /** Where the key acts; the panels only when absent. */
  in?: readonly KeyMode[];
}

const chars = (...cs: string[]): KeySpec[] => cs.map((char) => ({ char }));
const VIEWS: readonly KeyMode[] = VIEW_IDS;
const ALL_BUT_TYPING: readonly KeyMode[] = ['main', 'help', ...VIEWS];

/** The keymap, in the order the help lists it and the footer groups it; the first binding that matches acts. */
export function buildKeymap(eventTypes: readonly EventTypeInfo[], channels: readonly ChannelInfo[]): KeyBinding[] {
  return [
    ...eventTypes.map((e): KeyBinding => ({ keys: e.key, match: chars(e.key), command: Command.Inject, arg: e.type })),
    { keys: '↑/k', match: [{ key: 'upArrow' }, ...chars('k')], command: Command.MoveUp, in: ALL_BUT_TYPING },
    { keys: '↓/j', match: [{ key: 'downArrow' }, ...chars('j')], command: Command.MoveDown, in: ALL_BUT_TYPING },
    { keys: '←', match: [{ key: 'leftArrow' }], command: Command.MoveLeft, in: ['prefs'] },
    { keys: '→', match: [{ key: 'rightArrow' }], command: Command.MoveRight, in: ['prefs'] },
    { keys: 'PgUp', match: [{ key: 'pageUp' }], command: Command.PageUp, in: ALL_BUT_TYPING },
    { keys: 'PgDn', match: [{ key: 'pageDown' }], command: Command.PageDown, in: ALL_BUT_TYPING },
    ...channels.map((c): KeyBinding => ({
      keys: c.toggleKey,
      match: chars(c.toggleKey),
      command: Command.ToggleChannel,
      arg: c.name,
      argLabel: c.label,
    })),
    { keys: 'Tab', match: [{ key: 'tab', shift: false }], command: Command.FocusNext },
    { keys: 'Shift-Tab', match: [{ key: 'tab', shift: true }], command: Command.FocusPrevious },
    { keys: 'Enter', match: [{ key: 'return' }], command: Command.OpenDetail },
    { keys: 'Enter', match: [{ key: 'return' }], command: Command.OpenLetter, in: ['deadletters'] },
    { keys: 'space', match: chars(' '), command: Command.ToggleCell, in: ['prefs'] },
    { keys: '/', match: chars('/'), command: Command.StartFilter },
    { keys: 'text', match: ['printable'], command: Command.TypeFilter, in: ['filter'] },
    {
      keys: 'Backspace',
      match: [{ key: 'backspace' }, { key: 'delete' }],
      command: Command.EraseFilter,
      in: ['filter'],
    },
    { keys: 'Enter', match: [{ key: 'return' }], command: Command.ApplyFilter, in: ['filter'] },
    { keys: 'd', match: chars('d'), command: Command.OpenDeadLetters, in: ['main', 'deadletters'] },
    { keys: 'R', match: chars('R'), command: Command.ReplayLetter, in: ['deadletters', 'letter'] },
    { keys: 'y', match: chars('y', 'Y'), command: Command.AnswerYes, in: ['confirm'] },
    { keys: 'n', match: chars('n', 'N'), command: Command.AnswerNo, in: ['confirm'] },
    { keys: 'l', match: chars('l'), command: Command.OpenPartitions },
    { keys: 'S', match: chars('S'), command: Command.OpenScheduled, in: ['main', 'scheduled'] },
    { keys: 'x', match: chars('x'), command: Command.ExportRows },
    { keys: 'space', match: chars(' '), command: Command.TogglePause },
    { keys: '+', match: chars('+', '='), command: Command.RateUp },
    { keys: '-', match: chars('-', '_'), command: Command.RateDown },
    { keys: '?', match: chars('?'), command: Command.ToggleHelp, in: ALL_BUT_TYPING },
    {
      keys: 'Esc',
      match: [{ key: 'escape' }],
      command: Command.Close,
      in: ['main', 'filter', 'confirm', 'help', ...VIEWS],
    },
    { keys: 'q/Ctrl-C', match: [...chars('q'), { ctrl: 'c' }], command: Command.Quit, in: ALL_BUT_TYPING },
    { keys: 'Ctrl-C', match: [{ ctrl: 'c' }], command: Command.QuitTyping, in: ['filter', 'confirm'] },
  ];
}

const printable = (input: string, key: Key): boolean =>
  !key.ctrl &&
  !key.meta &&
  !key.escape &&
  !key.return &&
  !key.tab &&
  input.length > 0 &&
  !/[\u0000-\u001f\u007f]/.test(input);

/** Whether a keystroke is the key `spec` describes. */
export function matchesKey(spec: KeySpec, input: string, key: Key): boolean {
  if (spec === 'printable') return printable(input, key);
  if ('char' in spec) return !key.ctrl && !key.meta && input === spec.char;
  if ('ctrl' in spec) return key.ctrl && input === spec.ctrl;
  return key[spec.key] && (spec.shift === undefined || key.shift === spec.shift);
}

/** Whether `binding` acts in `mode`. */
export const actsIn = (binding: KeyBinding, mode: KeyMode): boolean => (binding.in ?? ['main']).includes(mode);

/** The help's line for a binding: its command's, naming the binding's argument. */
export function describe(binding: KeyBinding): string {
  const { help } = COMMAND_INFO[binding.command];
  return typeof help === 'string' ? help : help(binding.argLabel ?? binding.arg ?? '');
}

/** Carries out the first binding in `mode` that matches the keystroke; false when none does. */
export function dispatchKey(
  bindings: readonly KeyBinding[],
  input: string,
  key: Key,
  actions: DashboardActions,
  mode: KeyMode = 'main',
): boolean {
  const binding = bindings.find((b) => actsIn(b, mode) && b.match.some((spec) => matchesKey(spec, input, key)));
  if (!binding) return false;
  HANDLERS[binding.command](actions, binding.arg ?? input);
  return true;
}
