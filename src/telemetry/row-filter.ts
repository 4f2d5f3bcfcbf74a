/**
 * The dashboard's `/` filter: a case-insensitive substring over event id, user id, type, channel,
 * status and reason. Applied where the rows are kept, so a filter finds rows the screen had no room for.
 */

export interface FilterableRow {
  eventId?: string;
  userId?: string;
  type?: string;
  channel?: string;
  status?: string;
  reason?: string | null;
}

/** Text longer than this is not a filter anyone types; it is cut, so a match costs what a cell costs. */
export const FILTER_LENGTH = 200;

export function rowFilter(text: string): (row: FilterableRow) => boolean {
  const needle = text.slice(0, FILTER_LENGTH).toLowerCase();
  if (needle === '') return () => true;
  const has = (field: string | null | undefined): boolean =>
    field !== undefined && field !== null && field.toLowerCase().includes(needle);
  return (row) =>
    has(row.eventId) || has(row.userId) || has(row.type) || has(row.channel) || has(row.status) || has(row.reason);
}
