// Test-only helpers shared by every package's tests; nothing in a package's `src` imports this entry.
export { waitFor } from './wait';
