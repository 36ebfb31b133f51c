export { ACTUATOR_COILS, type BrewFailureDetails, RecipeEngine, type RecipeEngineOptions } from './engine';
export { BLOCKING_FAULTS, checkPreconditions } from './preconditions';
export type { BrewProgress, BrewResult, RecipeRunner } from './types';
