import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

import { COCO_RUNTIME_CLASSES, parseImageReference, renderDeploySnippet } from '@secure-build/deploy';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';

// libs/config exports loadConfig only; the schema's keys are the names it reads.
import { envSchema } from '@secure-build/config';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed YAML, navigated freely; each use is asserted
type Obj = Record<string, any>;

const ROOT = resolve(__dirname, '..');
const DEPLOY = join(ROOT, 'deploy');
const CONFIG_KEYS = new Set(Object.keys(envSchema.shape));
const HEX = 'ab'.repeat(32);
// Kata annotations known to exist; anything else on a Pod template is refused as invented.
const KNOWN_POD_ANNOTATIONS = new Set([
  'io.katacontainers.config.hypervisor.kernel_params',
  'io.katacontainers.config.hypervisor.default_memory',
  'io.katacontainers.config.hypervisor.default_vcpus',
]);
// Sample values for every placeholder of deploy/hpvs/contract.yaml.tmpl.
const PEM = '-----BEGIN PUBLIC KEY-----\\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\\n-----END PUBLIC KEY-----';
const HPVS_SAMPLES: Record<string, string> = {
  ATTESTATION_PUBLIC_KEY: PEM,
  CONTRACT_SIGNING_PUBLIC_KEY: PEM,
  DATABASE_URL: 'postgresql://securebuild:pw@db.example.com:5432/securebuild',
  HPCR_ENCRYPTION_CERTIFICATE: 'ibm-hyper-protect-container-runtime-encrypt.crt',
  REDIS_URL: 'rediss://:pw@redis.example.com:6380',
  REGISTRY_HOST: 'registry.example.com',
  REGISTRY_PASSWORD: 'registry-password',
  REGISTRY_USERNAME: 'deployer',
  SECURE_BUILD_ATTESTATION_URL: 'https://secure-build.example.com',
  SECURE_BUILD_SECRETS_KEY: 'cd'.repeat(32),
  SECURE_BUILD_WORKER_TOKEN: 'sbt_worker-token',
  SYSLOG_CA_CERTIFICATE: PEM,
  SYSLOG_CLIENT_CERTIFICATE: PEM,
  SYSLOG_CLIENT_KEY: PEM,
  SYSLOG_HOSTNAME: 'syslog.example.com',
  SYSLOG_PORT: '6514',
  WORKER_IMAGE_SHA256: HEX,
  WORKER_REPOSITORY: 'secure-build/secure-build',
};

const read = (path: string): string => readFileSync(join(DEPLOY, path), 'utf8');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [relative(DEPLOY, join(dir, entry.name))],
  );
}

function parseYaml(text: string, what: string): Obj {
  expect(
    parseAllDocuments(text).flatMap((d) => d.errors),
    what,
  ).toEqual([]);
  return parse(text);
}

/** Names this project's config does not know. */
function unknownNames(names: Iterable<string>): string[] {
  return [...names].filter((name) => !CONFIG_KEYS.has(name));
}

/** Comment lines directly above line `index` (the operator's "pin by digest" note lives there). */
function commentAbove(lines: string[], index: number): string {
  const above: string[] = [];
  for (let i = index - 1; i >= 0 && lines[i].trim().startsWith('#'); i -= 1) above.unshift(lines[i]);
  return above.join('\n');
}

/** A third-party image: `host/path:tag@sha256:<hex>`, or `host/path:tag` under a "pin by digest" note. */
function expectThirdPartyPinned(image: string, comment: string): void {
  const match = /^(?<name>[^@\s]+):(?<tag>[\w][\w.-]{0,127})(?:@(?<digest>sha256:[0-9a-f]{64}))?$/.exec(image);
  expect(match, `${image} must carry a tag`).not.toBeNull();
  const { name, tag, digest } = match!.groups!;
  expect(tag, `${image}: "latest" is not a pin`).not.toBe('latest');
  expect(parseImageReference(`${name}@${digest ?? `sha256:${HEX}`}`).repository).not.toBe('');
  if (digest === undefined) expect(comment, `${image} is pinned by tag only`).toMatch(/pin by digest/i);
}

/** Our own image in a manifest: registry/repository@sha256 with the digest left to the operator. */
function expectOwnImagePlaceholder(image: string): void {
  expect(image).toMatch(/@sha256:REPLACE_ME$/);
  const filled = parseImageReference(image.replace('REPLACE_ME', HEX));
  expect(filled.digest).toBe(`sha256:${HEX}`);
}

function containerEnvNames(container: Obj): string[] {
  return (container.env ?? []).map((e: Obj) => e.name);
}

describe('deploy/', () => {
  it('holds only files this test knows how to check', () => {
    const known = /^(compose\.yaml|Containerfile|README\.md|kubernetes\/[a-z-]+\.yaml|hpvs\/contract\.yaml\.tmpl)$/;
    const files = filesUnder(DEPLOY);
    expect(files.filter((file) => !known.test(file))).toEqual([]);
    expect(files).toEqual(expect.arrayContaining(['compose.yaml', 'Containerfile', 'hpvs/contract.yaml.tmpl']));
  });

  describe('compose.yaml', () => {
    const text = read('compose.yaml');
    const compose = parseYaml(text, 'compose.yaml');
    const lines = text.split('\n');

    it('has the api, worker, Redis, PostgreSQL and registry services', () => {
      expect(Object.keys(compose.services).sort()).toEqual(['api', 'postgres', 'redis', 'registry', 'worker']);
    });

    it('builds the api and worker from deploy/Containerfile and starts each with its own entry point', () => {
      for (const [name, main] of [
        ['api', 'dist/apps/api/src/main.js'],
        ['worker', 'dist/apps/worker/src/main.js'],
      ]) {
        const service = compose.services[name];
        expect(service.build).toEqual({ context: '..', dockerfile: 'deploy/Containerfile' });
        expect(service.image ?? '', 'a local tag only, never pulled').not.toMatch(/[/@]/);
        expect(service.command).toEqual(['node', main]);
      }
    });

    it('gives the api and worker only variables libs/config knows', () => {
      for (const name of ['api', 'worker']) {
        const environment = compose.services[name].environment;
        expect(typeof environment === 'object' && !Array.isArray(environment)).toBe(true);
        expect(unknownNames(Object.keys(environment))).toEqual([]);
        expect(environment.DATABASE_URL).toMatch(/^postgresql:\/\//);
        expect(environment.REDIS_URL).toMatch(/^redis:\/\//);
      }
      expect(compose.services.worker.environment.SECURE_BUILD_TEE).toBe('simulated');
    });

    it('pins third-party images by digest, or by tag under a "pin by digest" note', () => {
      for (const name of ['redis', 'postgres', 'registry']) {
        const service = compose.services[name];
        expect(service.build).toBeUndefined();
        const index = lines.findIndex((line) => line.trim() === `image: ${service.image}`);
        expect(index, `${name}'s image line`).toBeGreaterThan(0);
        expectThirdPartyPinned(service.image, commentAbove(lines, index));
      }
      expect(compose.services.registry.image).toMatch(/^docker\.io\/library\/registry:2(@|$)/);
    });

    it('keeps Redis, PostgreSQL and the registry on the internal network only', () => {
      expect(compose.networks.backend).toEqual({ internal: true });
      for (const name of ['redis', 'postgres', 'registry']) {
        expect(compose.services[name].networks).toEqual(['backend']);
        expect(compose.services[name].ports).toBeUndefined();
      }
      expect(compose.services.api.ports).toEqual(['127.0.0.1:8080:8080']);
    });

    it("checks the api's readiness endpoint and lets the worker's bubblewrap create namespaces", () => {
      expect(compose.services.api.healthcheck.test.join(' ')).toContain('http://127.0.0.1:8080/readyz');
      expect(compose.services.worker.security_opt).toEqual(
        expect.arrayContaining(['seccomp=unconfined', 'apparmor=unconfined', 'systempaths=unconfined']),
      );
      expect(compose.services.worker.privileged).toBeUndefined();
    });
  });

  describe('Containerfile', () => {
    const lines = read('Containerfile').split('\n');
    const text = lines.join('\n');

    /** Each FROM's image (ARG defaults resolved), stage name and the comment above where it is set. */
    function baseImages(): { image: string; stage?: string; comment: string }[] {
      const args = new Map<string, { value: string; line: number }>();
      return lines.flatMap((line, index) => {
        const arg = /^ARG (\w+)=(\S+)$/.exec(line);
        if (arg) args.set(arg[1], { value: arg[2], line: index });
        if (!/^FROM\s/i.test(line)) return [];
        const from = /^FROM (\S+)(?: AS (\S+))?$/.exec(line);
        expect(from, line).not.toBeNull();
        const viaArg = /^\$\{(\w+)\}$/.exec(from![1]);
        const source = viaArg ? args.get(viaArg[1]) : { value: from![1], line: index };
        expect(source, `${from![1]} has a default`).toBeDefined();
        return [{ image: source!.value, stage: from![2], comment: commentAbove(lines, source!.line) }];
      });
    }

    it('pins every FROM to Node 20 on Debian bookworm (digest, or tag under a "pin by digest" note)', () => {
      const froms = baseImages();
      const stages = froms.map((f) => f.stage);
      expect(stages).toEqual(['build', 'runtime']);
      for (const { image, comment } of froms) {
        if (stages.includes(image)) continue;
        expectThirdPartyPinned(image, comment);
        expect(image).toMatch(/^docker\.io\/library\/node:20(\.\d+)*-bookworm(-slim)?(@|$)/);
      }
    });

    it('installs git, bubblewrap and CA certificates, and runs as a non-root user', () => {
      for (const pkg of ['git', 'bubblewrap', 'ca-certificates'])
        expect(text).toMatch(new RegExp(`install[^\\n]* ${pkg} `));
      expect(text).toMatch(/npm ci /);
      expect(text).toMatch(/npm run build/);
      expect(lines.filter((line) => line.startsWith('USER ')).at(-1)).toBe('USER node');
    });

    it('sets only variables libs/config knows', () => {
      const envs = [...text.matchAll(/^ENV ((?:.*\\\n)*.*)$/gm)].map((m) => m[1]);
      const names = envs.flatMap((env) => [...env.matchAll(/(\w+)=/g)].map((m) => m[1]));
      expect(names.length).toBeGreaterThan(0);
      expect(unknownNames(names)).toEqual([]);
    });
  });

  describe('kubernetes/', () => {
    const docs = readdirSync(join(DEPLOY, 'kubernetes'))
      .filter((file) => file.endsWith('.yaml'))
      .flatMap((file) => {
        const parsed = parseAllDocuments(read(`kubernetes/${file}`));
        expect(
          parsed.flatMap((d) => d.errors),
          file,
        ).toEqual([]);
        return parsed.map((d) => ({ file, doc: d.toJS() as Obj }));
      });
    const ofKind = (kind: string) => docs.filter((d) => d.doc.kind === kind).map((d) => d.doc);
    const configMap = ofKind('ConfigMap')[0];
    const secret = ofKind('Secret')[0];
    const deployments = ofKind('Deployment');
    const byName = (name: string) => deployments.find((d) => d.metadata.name === name)!;

    it('gives every document apiVersion, kind, metadata.name and the secure-build namespace', () => {
      expect(docs.map((d) => d.doc.kind).sort()).toEqual([
        'ConfigMap',
        'Deployment',
        'Deployment',
        'Deployment',
        'Namespace',
        'Secret',
        'Service',
      ]);
      for (const { file, doc } of docs) {
        expect(doc.apiVersion, file).toMatch(/^(v1|apps\/v1)$/);
        expect(doc.metadata.name, file).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
        if (doc.kind !== 'Namespace') expect(doc.metadata.namespace, file).toBe('secure-build');
      }
    });

    it('keeps configuration names to those libs/config knows, with string values and placeholder secrets', () => {
      expect(unknownNames(Object.keys(configMap.data))).toEqual([]);
      expect(Object.values(configMap.data).every((v) => typeof v === 'string')).toBe(true);
      expect(unknownNames(Object.keys(secret.stringData))).toEqual([]);
      expect(Object.keys(secret.stringData)).toEqual(
        expect.arrayContaining(['DATABASE_URL', 'REDIS_URL', 'SECURE_BUILD_SECRETS_KEY', 'SECURE_BUILD_ADMIN_TOKEN']),
      );
      expect(new Set(Object.values(secret.stringData))).toEqual(new Set(['REPLACE_ME']));
    });

    it('wires every Deployment to the ConfigMap and Secret with known names, limits and a security context', () => {
      for (const deployment of deployments) {
        const pod = deployment.spec.template;
        expect(pod.metadata.labels).toMatchObject(deployment.spec.selector.matchLabels);
        expect(Object.keys(pod.metadata.annotations ?? {}).filter((k) => !KNOWN_POD_ANNOTATIONS.has(k))).toEqual([]);
        expect(pod.spec.automountServiceAccountToken).toBe(false);
        for (const container of pod.spec.containers) {
          expectOwnImagePlaceholder(container.image);
          expect(container.args[0]).toBe('node');
          expect(unknownNames(containerEnvNames(container))).toEqual([]);
          expect(container.envFrom).toEqual([{ configMapRef: { name: configMap.metadata.name } }]);
          for (const { valueFrom } of container.env ?? []) {
            if (!valueFrom) continue;
            expect(valueFrom.secretKeyRef.name).toBe(secret.metadata.name);
            expect(Object.keys(secret.stringData)).toContain(valueFrom.secretKeyRef.key);
          }
          expect(container.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
          expect(container.resources.limits).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
          expect(container.securityContext).toBeDefined();
        }
      }
    });

    it('probes the API on the health endpoints apps/api serves, outside the /v1 prefix', () => {
      const controller = readFileSync(join(ROOT, 'apps/api/src/health/health.controller.ts'), 'utf8');
      const bootstrap = readFileSync(join(ROOT, 'apps/api/src/bootstrap.ts'), 'utf8');
      const api = byName('secure-build-api').spec.template.spec.containers[0];
      const probes = { liveness: api.livenessProbe, readiness: api.readinessProbe, startup: api.startupProbe };
      for (const [kind, probe] of Object.entries(probes)) {
        const path = probe.httpGet.path.slice(1);
        expect(controller, `${kind} probe path ${path}`).toContain(`@Get('${path}')`);
        expect(bootstrap, `${path} excluded from the v1 prefix`).toContain(
          `{ path: '${path}', method: RequestMethod.GET }`,
        );
        expect(api.ports.map((p: Obj) => p.name)).toContain(probe.httpGet.port);
      }
      expect(probes.liveness.httpGet.path).toBe('/healthz');
      expect(probes.readiness.httpGet.path).toBe('/readyz');
      expect(api.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
      const service = ofKind('Service')[0];
      expect(service.spec.selector).toEqual(byName('secure-build-api').spec.selector.matchLabels);
      expect(service.spec.ports[0].targetPort).toBe('http');
    });

    it('runs workers in confidential VMs with the matching TEE and in-guest scratch space', () => {
      for (const [name, tee] of [
        ['secure-build-worker', 'tdx'],
        ['secure-build-worker-se', 'se'],
      ] as const) {
        const spec = byName(name).spec.template.spec;
        expect(spec.runtimeClassName).toBe(COCO_RUNTIME_CLASSES[tee]);
        const env = spec.containers[0].env as Obj[];
        expect(env.find((e) => e.name === 'SECURE_BUILD_TEE')?.value).toBe(tee);
        expect(spec.containers[0].args).toEqual(['node', 'dist/apps/worker/src/main.js']);
        expect(spec.volumes.find((v: Obj) => v.name === 'data').emptyDir.medium).toBe('Memory');
      }
      const se = byName('secure-build-worker-se').spec.template.spec.containers[0].env as Obj[];
      expect(se.find((e) => e.name === 'SECURE_BUILD_ATTESTATION_URL')?.value).toBe(
        'http://secure-build-api.secure-build.svc:8080',
      );
    });
  });

  describe('hpvs/contract.yaml.tmpl', () => {
    const template = read('hpvs/contract.yaml.tmpl');
    const placeholders = new Set([...template.matchAll(/\$\{([A-Z0-9_]+)\}/g)].map((m) => m[1]));
    const filled = template.replace(/\$\{([A-Z0-9_]+)\}/g, (_, name: string) => HPVS_SAMPLES[name]);
    const contract = parseYaml(filled, 'contract');

    it('uses only known placeholders and no other $', () => {
      expect([...placeholders].filter((name) => !(name in HPVS_SAMPLES))).toEqual([]);
      expect(filled).not.toContain('$');
    });

    it('has env and workload sections (plain-text form) and the attestation key', () => {
      expect(Object.keys(contract).sort()).toEqual(['attestationPublicKey', 'env', 'workload']);
      expect(typeof contract.env).toBe('string');
      expect(typeof contract.workload).toBe('string');
      expect(contract.attestationPublicKey).toContain('BEGIN PUBLIC KEY');
    });

    it('env: type env, syslog logging, signing key and only variables libs/config knows', () => {
      const env = parseYaml(contract.env, 'env section');
      expect(env.type).toBe('env');
      expect(Object.keys(env.logging.syslog).sort()).toEqual(['cert', 'hostname', 'key', 'port', 'server']);
      expect(env.signingKey).toContain('\n');
      expect(unknownNames(Object.keys(env.env))).toEqual([]);
    });

    it('workload: type workload, one play Pod with the worker image pinned by digest', () => {
      expect(template).toContain('@sha256:${WORKER_IMAGE_SHA256}');
      const workload = parseYaml(contract.workload, 'workload section');
      expectHpvsWorkload(workload);
      const container = workload.play.resources[0].spec.containers[0];
      expect(container.image).toBe(`registry.example.com/secure-build/secure-build@sha256:${HEX}`);
      expect(container.args).toEqual(['node', 'dist/apps/worker/src/main.js']);
      expect(Object.keys(workload.auths)).toEqual([HPVS_SAMPLES.REGISTRY_HOST]);
      expect(unknownNames(Object.keys(workload.env))).toEqual([]);
      expect(workload.env.SECURE_BUILD_TEE).toBe('se');
    });
  });

  describe('renderDeploySnippet output', () => {
    const image = `registry.example.com/org/wallet-signer@sha256:${HEX}`;
    const provenance = { commit: 'f'.repeat(40), sourceRepository: 'https://git.example.com/org/wallet.git' };

    it('is a valid Pod for CoCo, on TDX and on SE', () => {
      for (const tee of ['tdx', 'se'] as const) {
        const pod = parseYaml(renderDeploySnippet({ image, target: 'coco', tee, provenance }).text, 'coco');
        expect(pod).toMatchObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'wallet-signer' } });
        expect(pod.spec.runtimeClassName).toBe(COCO_RUNTIME_CLASSES[tee]);
        expect(pod.spec.containers).toEqual([expect.objectContaining({ image, imagePullPolicy: 'Always' })]);
        expect(Object.keys(pod.metadata.annotations).every((k) => k.startsWith('securebuild.dev/'))).toBe(true);
      }
    });

    it('is a valid HPVS workload section that drops into the contract in place of the template one', () => {
      const snippet = renderDeploySnippet({ image, target: 'hpvs', provenance });
      const workload = parseYaml(snippet.text, 'hpvs');
      expectHpvsWorkload(workload);
      expect(workload.play.resources[0].spec.containers[0].image).toBe(image);
      const filled = read('hpvs/contract.yaml.tmpl').replace(/\$\{(\w+)\}/g, (_, n: string) => HPVS_SAMPLES[n]);
      const contract = { ...parse(filled), workload: snippet.text };
      expect(parse(parse(stringify(contract)).workload)).toEqual(workload);
    });
  });
});

/** The HPCR workload section shape: type workload, exactly one of compose/play, Pods pinned by digest. */
function expectHpvsWorkload(workload: Obj): void {
  expect(workload.type).toBe('workload');
  expect('compose' in workload).not.toBe('play' in workload);
  const pods = workload.play.resources as Obj[];
  expect(pods.length).toBeGreaterThan(0);
  for (const pod of pods) {
    expect(pod).toMatchObject({ apiVersion: 'v1', kind: 'Pod' });
    for (const container of pod.spec.containers) {
      expect(parseImageReference(container.image).digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(container.envFrom).toEqual([{ configMapRef: expect.objectContaining({ name: 'contract.config.map' }) }]);
    }
  }
}
