/** Pipeline stages, in order; names are shown to users and recorded as timings. */
export type BuildStage =
  'source' | 'verify' | 'recipe' | 'base' | 'build' | 'image' | 'rebuild' | 'provenance' | 'publish';

/** Progress reported while a build runs. */
export type BuildEvent =
  | { type: 'stage-start'; stage: BuildStage; detail?: string }
  | { type: 'stage-end'; stage: BuildStage; durationMs: number; detail?: string }
  | { type: 'log'; chunk: string };
