export { BuildError } from './pipeline/build-error';
export type { BuildErrorCode } from './pipeline/build-error';
export type { BuildEvent, BuildStage } from './pipeline/build-events';
export { establishBuilderIdentity } from './pipeline/builder-identity';
export type { BuilderIdentity } from './pipeline/builder-identity';
export { DEFAULT_BUILD_LIMITS, OUTPUT_FILES, runSecureBuild } from './pipeline/run-secure-build';
export type { SecureBuildRequest, SecureBuildResult } from './pipeline/run-secure-build';
export { DEFAULT_RECIPE_PATH, loadRecipe, parseRecipe, parseRecipePath, RecipeError } from './recipe';
export type { Recipe, RecipeErrorCode } from './recipe';
