/**
 * One schema version. Statements run in order, one per query (PGlite's extended protocol takes a
 * single statement). Published migrations are immutable: change the schema with a new version.
 */
export interface Migration {
  version: number;
  name: string;
  statements: readonly string[];
}
