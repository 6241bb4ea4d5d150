import type { EvidenceContext, SeVerifierClient } from '@secure-build/attestation';

/** An SE worker's client for the API's attestation endpoints (token with the attestation:write scope). */
export class HttpSeVerifierClient implements SeVerifierClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async challenge(): Promise<{ id: string; requestFile: Buffer }> {
    const body = await this.post<{ id: string; request: string }>('/v1/attestation/se/requests', {});
    return { id: body.id, requestFile: Buffer.from(body.request, 'base64') };
  }

  async complete(id: string, responseFile: Buffer, context: EvidenceContext): Promise<unknown> {
    const spki = context.signingKeySpkiDer.toString('base64');
    const body = await this.post<{ result: unknown }>(
      `/v1/attestation/se/requests/${encodeURIComponent(id)}/response`,
      {
        response: responseFile.toString('base64'),
        signingKeySpki: spki,
        ...(context.workerRef ? { workerRef: context.workerRef } : {}),
      },
    );
    return body.result;
  }

  private async post<T>(path: string, payload: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl.replace(/\/+$/, '')}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(payload),
    });
    const text = await response.text();
    if (!response.ok)
      throw new Error(`SE attestation service answered ${response.status} to ${path}: ${text.slice(0, 500)}`);
    return JSON.parse(text) as T;
  }
}
