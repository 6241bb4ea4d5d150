// Persistent identifiers: jobs already in Redis carry these names. Never edit a value; add a new
// one and migrate (a renamed queue strands every job waiting in the old one).

/** BullMQ queues. */
export enum QueueName {
  Builds = 'builds',
}

/** Job names on the builds queue. */
export enum BuildJobName {
  Run = 'build.run',
}
