/** What a view over the panels declares: the registry (registry.ts) and the keys read only this. */
import type { ReactNode } from 'react';
import type { Command } from '../keys/commands.js';
import type { DashboardState } from '../store.js';
import type { ViewProps } from './ScrollView.js';

/**
 * A view. Declare one with its id as the type argument (`const fooView: ViewDescriptor<'foo'> = …`): the
 * annotation, not inference, gives the registry its ids, so a view's handlers may name other views.
 */
export interface ViewDescriptor<Id extends string = string> {
  /** The view's name: `view` in the store and the key mode while it shows. */
  readonly id: Id;
  /** What it shows, in words. */
  readonly title: string;
  /** The command whose key opens it (its binding is in src/ui/keys/bindings.ts). */
  readonly opens: Command;
  /** Draws the view in the body's place. */
  readonly component: (props: ViewProps) => ReactNode;
  /** ↑↓ PgUp PgDn: what moving by `delta` changes (a cursor); absent: the view scrolls, up to `scrollLimit`. */
  readonly move?: (s: DashboardState, delta: number) => Partial<DashboardState>;
  /** ←→: what moving across by `delta` changes (a column cursor); absent: ←→ do nothing. */
  readonly moveAcross?: (s: DashboardState, delta: number) => Partial<DashboardState>;
  /** The last line a scrolling view can start at: its lines minus the rows it has. Absent: 0. */
  readonly scrollLimit?: (s: DashboardState) => number;
  /** Esc: what closing it changes; absent: back to the panels. */
  readonly close?: (s: DashboardState) => Partial<DashboardState>;
}
