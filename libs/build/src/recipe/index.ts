export { DEFAULT_RECIPE_PATH, loadRecipe, parseRecipe, parseRecipePath, RecipeError } from './recipe';
export type { RecipeErrorCode } from './recipe';
export type { Recipe } from './recipe.schema';
