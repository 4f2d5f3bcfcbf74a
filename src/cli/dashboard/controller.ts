/**
 * Carries out what the keys ask for (DashboardActions), by delegating: what changes the screen only to
 * view-state.ts (no I/O), the keys acting on the selected user to user-keys.ts (Kafka, Redis), the
 * producer's pace to producer-keys.ts, the inspect keys that read Kafka to inspect-actions.ts, the
 * preferences editor's reads and writes to prefs-editor.ts, the Scheduled view's reads to scheduled.ts.
 * The UI only calls these.
 */
import type { Pipeline } from '../../app/runtime.js';
import { sanitize } from '../../text/sanitize.js';
import type { DashboardActions } from '../../ui/keymap.js';
import type { DashboardStore } from '../../ui/store.js';
import { InspectActions, type InspectSource } from './inspect-actions.js';
import { PrefsEditorActions } from './prefs-editor.js';
import { ProducerKeys } from './producer-keys.js';
import { ScheduledActions } from './scheduled.js';
import { UserKeys } from './user-keys.js';
import { notifier, ViewState, type Notify } from './view-state.js';

export type { InspectSource } from './inspect-actions.js';
export { nextRate, RATE_STEPS } from './producer-keys.js';
export { PENDING_INJECTIONS, PENDING_TOGGLES } from './user-keys.js';

export class DashboardController implements DashboardActions {
  private readonly notify: Notify;
  private readonly view: ViewState;
  private readonly users: UserKeys;
  private readonly producer: ProducerKeys;
  private readonly inspectKeys: InspectActions;
  private readonly editor: PrefsEditorActions;
  private readonly scheduled: ScheduledActions;

  constructor(
    store: DashboardStore,
    current: () => Pipeline | undefined,
    private readonly onQuit: () => void,
    inspect: () => InspectSource | undefined = () => undefined,
    /** The Kafka nodes and leaders (./cluster.ts): read at once when the partitions view opens. */
    private readonly layout: { refresh(): Promise<void> } | undefined = undefined,
  ) {
    this.notify = notifier(store);
    this.users = new UserKeys(store, current, this.notify);
    this.editor = new PrefsEditorActions(store, current, this.notify, () => this.users.prefsVersion++);
    this.scheduled = new ScheduledActions(store, current);
    this.view = new ViewState(
      store,
      this.notify,
      (key) => inspect()?.detail(key),
      () => void this.editor.open(),
    );
    this.producer = new ProducerKeys(store, current, this.notify);
    this.inspectKeys = new InspectActions(store, inspect, this.notify);
  }

  /** Bumped on every preference write, so a users refresh that started before it is not applied over it. */
  get prefsVersion(): number {
    return this.users.prefsVersion;
  }

  /**
   * Set when the users, read once the pipeline had started (and seeded them where Redis answered), were
   * none: no user selected then means there are none, not that they are still to come.
   */
  get usersRead(): boolean {
    return this.users.usersRead;
  }
  set usersRead(read: boolean) {
    this.users.usersRead = read;
  }

  /** Something read from a service is wrong (a user's key of another type): said on the status line. */
  warn(text: string): void {
    this.notify(sanitize(text), 'error');
  }

  /** Keys pressed while Kafka or Redis connect, waiting to be carried out. */
  pending(): { injections: number; toggles: number } {
    return this.users.pending();
  }

  /** The keys still waiting, in words: said on the terminal when the dashboard quits before they were carried out. */
  pendingKeys(): string[] {
    return this.users.pendingKeys();
  }

  /**
   * What waited, carried out, called on every UI tick (cheap when idle): the dead letters `d` asked for
   * before Kafka answered, selection moves pressed before the users were read, then the queued keys.
   */
  async flush(): Promise<void> {
    this.inspectKeys.flush();
    this.view.flushMove();
    await this.users.flush();
  }

  /** Reads the partitions again while their view is open. */
  refreshPartitions(): Promise<void> {
    return this.inspectKeys.refreshPartitions();
  }

  /** Reads again what the open view shows from a service: the partitions, the schedule, the editor's user (every second). */
  async refreshViews(): Promise<void> {
    await Promise.all([this.inspectKeys.refreshPartitions(), this.scheduled.refresh(), this.editor.load()]);
  }

  inject(type: string): void {
    this.users.inject(type);
  }

  toggleChannel(channel: string): void {
    this.users.toggleChannel(channel);
  }

  moveSelection(delta: number): void {
    this.view.moveSelection(delta);
  }

  moveFocus(direction: 1 | -1): void {
    this.view.moveFocus(direction);
  }

  openDetail(): void {
    this.view.openDetail();
  }

  moveAcross(direction: 1 | -1): void {
    this.view.moveAcross(direction);
  }

  toggleCell(): void {
    this.editor.toggle();
  }

  openScheduled(): void {
    this.view.openView('scheduled');
    void this.scheduled.refresh();
  }

  startFilter(): void {
    this.view.startFilter();
  }

  typeFilter(text: string): void {
    this.view.typeFilter(text);
  }

  eraseFilter(): void {
    this.view.eraseFilter();
  }

  applyFilter(): void {
    this.view.applyFilter();
  }

  openDeadLetters(): void {
    this.view.openView('deadletters', (s) => ({ deadLetters: { ...s.deadLetters, cursor: 0 } }));
    void this.inspectKeys.loadDeadLetters();
  }

  replayLetter(): void {
    this.inspectKeys.replayLetter();
  }

  answer(yes: boolean): void {
    if (yes) this.inspectKeys.replayConfirmed();
    else this.view.cancelQuestion();
  }

  openPartitions(): void {
    this.view.openView('partitions');
    void this.inspectKeys.refreshPartitions();
    void this.layout?.refresh();
  }

  exportRows(): void {
    this.inspectKeys.exportRows();
  }

  togglePause(): void {
    this.producer.togglePause();
  }

  changeRate(direction: 1 | -1): void {
    this.producer.changeRate(direction);
  }

  toggleHelp(): void {
    this.view.toggleHelp();
  }

  closeOverlay(): void {
    this.view.closeOverlay();
  }

  quit(): void {
    const { injections, toggles } = this.users.pending();
    const waiting = injections + toggles;
    this.notify(
      `quitting: settling the batch in flight…${waiting > 0 ? ` (${waiting} queued keys not carried out)` : ''}`,
    );
    this.onQuit();
  }
}
