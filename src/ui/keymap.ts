/**
 * The one keymap (src/ui/keys/): commands with their help lines, footer groups and handlers
 * (commands.ts), the keys bound to them (bindings.ts), the footer and help read from both (footer.ts),
 * and keys that came in one read split back (keystrokes.ts). It feeds the input handler, the `?` help
 * overlay and the footer hint, so what the screen promises is what the keys do.
 */
export * from './keys/commands.js';
export * from './keys/bindings.js';
export * from './keys/footer.js';
export * from './keys/keystrokes.js';
