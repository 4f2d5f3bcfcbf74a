/**
 * The inspect keys that read or write Kafka, off the render path: the dead letters (read, and replayed
 * after a y), the partitions (read every second while their view is open) and the export.
 */
import { isChannelLetter, replayRefusal } from '../../pipeline/dead-letters.js';
import type { EventDetail } from '../../telemetry/event-details.js';
import { sanitize } from '../../text/sanitize.js';
import type { DashboardState, DashboardStore, LetterRow, PartitionRow } from '../../ui/store.js';
import type { Notify } from './view-state.js';

/**
 * What the inspect keys read: the collector's per-event detail, and Kafka (dead letters, partitions)
 * read off the render path. Undefined until the pipeline is open.
 */
export interface InspectSource {
  detail(key: string): EventDetail | undefined;
  deadLetters(): Promise<{ topic: string; letters: LetterRow[]; inTopic: number }>;
  /** Replays one letter; resolves with what to tell the user. */
  replay(letter: { partition: number; offset: string }): Promise<string>;
  partitions(): Promise<{ group: string; rows: PartitionRow[] }>;
  /** Writes the rows passing `filter` to a file in the working directory. */
  exportRows(filter: string): Promise<{ file: string; stream: number; deliveries: number }>;
}

export class InspectActions {
  private partitionsReading = false;
  /** `d` was pressed before Kafka answered: read on connect. */
  private lettersPending = false;
  private lettersReading = false;

  constructor(
    private readonly store: DashboardStore,
    private readonly inspect: () => InspectSource | undefined,
    private readonly notify: Notify,
  ) {}

  /** `d` pressed before Kafka answered: the dead letters are read as soon as it does (called on every UI tick). */
  flush(): void {
    if (this.lettersPending && this.inspect() && this.store.getState().view === 'deadletters') {
      this.lettersPending = false;
      void this.loadDeadLetters();
    }
  }

  async loadDeadLetters(): Promise<void> {
    // One read at a time: `d` pressed again while a read is under way waits for that one.
    if (this.lettersReading) return;
    const source = this.inspect();
    const set = (patch: Partial<DashboardState['deadLetters']>): void =>
      this.store.setState((s) => ({ deadLetters: { ...s.deadLetters, ...patch } }));
    if (!source) {
      this.lettersPending = true;
      return set({ state: 'loading', message: 'waiting for Kafka: read as soon as it answers' });
    }
    set({ state: 'loading', message: 'reading the dead-letter topic…' });
    this.lettersReading = true;
    try {
      const { topic, letters, inTopic } = await source.deadLetters();
      this.store.setState((s) => ({
        deadLetters: {
          ...s.deadLetters,
          state: 'ready',
          message: '',
          at: Date.now(),
          topic,
          letters,
          inTopic,
          cursor: Math.min(s.deadLetters.cursor, Math.max(0, letters.length - 1)),
        },
      }));
    } catch (error) {
      set({ state: 'error', message: (error as Error).message });
    } finally {
      this.lettersReading = false;
    }
  }

  /** R: asks y/n to replay the selected dead letter. */
  replayLetter(): void {
    const { deadLetters } = this.store.getState();
    const letter = deadLetters.letters[deadLetters.cursor];
    if (!letter) return this.notify('no dead letter selected', 'error');
    // A letter that names another topic is refused before the question: y would only be refused after it.
    const refused = replayRefusal(letter, this.store.getState().info.topic);
    if (refused) return this.notify(`not replayed: ${sanitize(refused)}`, 'error');
    const to = letter.sourceTopic ?? '(unknown source topic)';
    const only = isChannelLetter(letter) ? `, ${letter.channel} only` : '';
    // y/n first: a long topic name may cut the end of the line at 80 columns, never the answer keys.
    this.store.setState({
      confirm: {
        question: `y/n: replay ${deadLetters.topic}/${letter.partition}/${letter.offset} (${letter.reason}${only}) to ${to}?`,
        letter: { partition: letter.partition, offset: letter.offset },
      },
    });
  }

  /** y to the question: the letter asked about is replayed, then the dead letters read again. */
  replayConfirmed(): void {
    const confirm = this.store.getState().confirm;
    this.store.setState({ confirm: null });
    if (!confirm) return;
    const source = this.inspect();
    if (!source) return this.notify('not replayed: not connected yet', 'error');
    source.replay(confirm.letter).then(
      (said) => {
        this.notify(said);
        void this.loadDeadLetters();
      },
      (error: unknown) => this.notify(`not replayed: ${(error as Error).message}`, 'error'),
    );
  }

  /** Reads the partitions again while their view is open (the dashboard calls it every second). */
  async refreshPartitions(): Promise<void> {
    if (this.partitionsReading || this.store.getState().view !== 'partitions') return;
    const source = this.inspect();
    const set = (patch: Partial<DashboardState['partitions']>): void =>
      this.store.setState((s) => ({ partitions: { ...s.partitions, ...patch } }));
    if (!source) return set({ state: 'error', message: 'not connected yet (Kafka connecting)' });
    this.partitionsReading = true;
    if (this.store.getState().partitions.state !== 'ready') set({ state: 'loading', message: 'reading offsets…' });
    try {
      const { group, rows } = await source.partitions();
      set({ state: 'ready', message: '', at: Date.now(), group, rows });
    } catch (error) {
      set({ state: 'error', message: (error as Error).message });
    } finally {
      this.partitionsReading = false;
    }
  }

  exportRows(): void {
    const source = this.inspect();
    if (!source) return this.notify('nothing to export yet (the pipeline is starting)', 'error');
    const filter = this.store.getState().filter;
    source.exportRows(filter).then(
      ({ file, stream, deliveries }) =>
        // The file first: it is what the footer must show whole at 80 columns.
        this.notify(
          `exported to ${file}: ${stream} event(s), ${deliveries} deliver${deliveries === 1 ? 'y' : 'ies'}${filter ? ` matching "${filter}"` : ''}`,
        ),
      (error: unknown) => this.notify(`export failed: ${(error as Error).message}`, 'error'),
    );
  }
}
