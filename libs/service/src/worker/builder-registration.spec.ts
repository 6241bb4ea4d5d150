import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createSimulatedTdxProvider, SIMULATED_MEASUREMENTS } from '@secure-build/attestation';
import { BuilderIdentity, establishBuilderIdentity } from '@secure-build/build';
import { defaultBuilderPolicy, parseBuilderPolicy } from '@secure-build/provenance';
import type { Store } from '@secure-build/store';

import { openTestStore } from '../testing/service-fixture';
import { registerBuilder } from './builder-registration';

describe('registerBuilder', () => {
  let store: Store;
  let identity: BuilderIdentity;

  beforeAll(async () => {
    store = await openTestStore();
    identity = await establishBuilderIdentity(createSimulatedTdxProvider());
  });
  afterAll(async () => store.close());

  it('trusts a simulated worker only where the deployment runs the simulator, and publishes the verdict', async () => {
    const trusted = await registerBuilder(store, identity, 'w1', defaultBuilderPolicy(true));
    expect(trusted).toMatchObject({ trusted: true, tee: 'tdx-sim', tcbStatus: 'UpToDate', failed: [] });
    expect(trusted.measurements?.mrtd).toBe(SIMULATED_MEASUREMENTS.mrtd);
    const [listed] = await store.builders.list();
    expect(listed).toMatchObject({ keySha256: identity.key.spkiSha256, status: 'trusted', teeType: 'tdx-sim' });

    const hardwareOnly = await registerBuilder(store, identity, 'w1', defaultBuilderPolicy(false));
    expect(hardwareOnly.trusted).toBe(false);
    expect(hardwareOnly.failed.map((c) => c.name)).toEqual(['policy.allow-simulated']);
    expect((await store.builders.list())[0].status).toBe('rejected');
  });

  it('rejects a worker whose measurements are not the policy reference values, naming each', async () => {
    const policy = parseBuilderPolicy(
      `allowSimulated: true\ntdx:\n  mrtd: ["${'ab'.repeat(48)}"]\n  rtmr1: ["${SIMULATED_MEASUREMENTS.rtmr1}"]\n`,
    );
    const verdict = await registerBuilder(store, identity, 'w2', policy);
    expect(verdict.trusted).toBe(false);
    expect(verdict.failed.map((c) => c.name)).toEqual(['policy.tdx.mrtd']);
  });

  it('rejects evidence that does not bind this worker key', async () => {
    const other = await establishBuilderIdentity(createSimulatedTdxProvider());
    const mixed = { ...identity, evidence: other.evidence } as BuilderIdentity;
    const verdict = await registerBuilder(store, mixed, 'w3', defaultBuilderPolicy(true));
    expect(verdict.failed.map((c) => c.name)).toContain('evidence.report-data.binding');
  });
});
