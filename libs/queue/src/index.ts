export { buildJobId, InvalidJobError, parseBuildJob, runBuildJobOptions, runBuildPayloadSchema } from './build-job';
export type { BuildJob, RunBuildPayload } from './build-job';
export { BuildJobName, QueueName } from './queue-names';
