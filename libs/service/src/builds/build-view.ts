import type { BuildRecord, StageEvent } from '@secure-build/store';

/** A build as the API shows it. */
export interface BuildView {
  id: string;
  status: BuildRecord['status'];
  repository: string;
  commit: string;
  ref: string | null;
  recipePath: string;
  imageName: string | null;
  attempts: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  manifestDigest: string | null;
  /** where the image was pushed (by digest) and the provenance artifact attached to it */
  published: { reference: string; attestationDigest: string | null } | null;
  failure: { code: string; reason: string } | null;
  stages: { stage: string; attempt: number; startedAt: string; durationMs: number | null }[];
  links: { self: string; logs: string; provenance: string; cancel: string };
}

/** Renders a stored build (and optionally its stage events) for the API. */
export function toBuildView(build: BuildRecord, publicUrl: string, events: StageEvent[] = []): BuildView {
  const self = `${publicUrl}/v1/builds/${build.id}`;
  return {
    id: build.id,
    status: build.status,
    repository: build.repository,
    commit: build.commit,
    ref: build.ref ?? null,
    recipePath: build.recipePath,
    imageName: build.imageName ?? null,
    attempts: build.attempts,
    createdAt: build.createdAt.toISOString(),
    startedAt: build.startedAt?.toISOString() ?? null,
    finishedAt: build.finishedAt?.toISOString() ?? null,
    manifestDigest: build.manifestDigest ?? null,
    published: build.publishedReference
      ? { reference: build.publishedReference, attestationDigest: build.attestationDigest ?? null }
      : null,
    failure: build.failureCode ? { code: build.failureCode, reason: build.failureReason ?? '' } : null,
    stages: stageTimings(events),
    links: { self, logs: `${self}/logs`, provenance: `${self}/provenance`, cancel: `${self}/cancel` },
  };
}

function stageTimings(events: StageEvent[]): BuildView['stages'] {
  const stages: BuildView['stages'] = [];
  for (const event of events) {
    if (event.event === 'start') {
      stages.push({ stage: event.stage, attempt: event.attempt, startedAt: event.at.toISOString(), durationMs: null });
    } else {
      const open = [...stages]
        .reverse()
        .find((s) => s.stage === event.stage && s.attempt === event.attempt && s.durationMs === null);
      if (open) open.durationMs = event.durationMs ?? null;
    }
  }
  return stages;
}
