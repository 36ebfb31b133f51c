// Test-only helpers shared by every package's tests; nothing in a package's `src` imports this entry.
export { FakeClock } from '../time/fake-clock';
export { examplePrices, exampleRecipe, exampleRecipeBundle, exampleRecipeSet } from './recipes';
export { waitFor } from './wait';
