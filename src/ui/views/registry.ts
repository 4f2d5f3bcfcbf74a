/**
 * The views over the panels, in one list: App.tsx draws the one showing, keyMode() names its key mode,
 * the store's `view` type, the help and the controller's moves and Esc all read it.
 *
 * To add a view:
 *   1. One file in src/ui/views/ exporting its component and a descriptor
 *      (`export const fooView: ViewDescriptor<'foo'> = { id: 'foo', title, opens, component, … }`);
 *      state it reads goes in src/ui/store.ts (DashboardState and its initial value).
 *   2. One line in VIEWS below: its id joins the `view` type and the key modes.
 *   3. The keymap entry: the command that opens it in src/ui/keys/commands.ts (Command, COMMAND_INFO,
 *      HANDLERS: the compiler asks for all three), its binding in src/ui/keys/bindings.ts (keys acting
 *      inside the view name it in `in`), and its DashboardActions method carried out in
 *      src/cli/dashboard/ (view-state.ts opens it; reading a service goes in a module of its own).
 */
import { deadLettersView } from './DeadLettersView.js';
import { detailView } from './DetailView.js';
import { letterView } from './LetterView.js';
import { partitionsView } from './PartitionsView.js';
import { prefsEditorView } from './PrefsEditorView.js';
import { scheduledView } from './ScheduledView.js';
import type { ViewDescriptor } from './view.js';

export type { ViewDescriptor } from './view.js';

export const VIEWS = [detailView, deadLettersView, letterView, partitionsView, prefsEditorView, scheduledView] as const;

/** A view's name, from the list: no union kept by hand. */
export type ViewId = (typeof VIEWS)[number]['id'];

export const VIEW_IDS: readonly ViewId[] = VIEWS.map((v) => v.id);

/** The descriptor of a view by its id. */
export function viewOf(id: ViewId): ViewDescriptor {
  return VIEWS.find((v) => v.id === id)!;
}
