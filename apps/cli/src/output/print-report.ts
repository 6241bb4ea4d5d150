import { VerificationReport } from '@secure-build/provenance';

/** Human-readable verification report: every check on its own line, failures first in the verdict. */
export function formatReport(report: VerificationReport): string {
  const lines = report.checks.map((c) => `${c.ok ? '✔' : '✘'} ${c.name}${c.detail ? `: ${c.detail}` : ''}`);
  const failed = report.checks.filter((c) => !c.ok).map((c) => c.name);
  const s = report.summary;
  const about = [
    s.repository && `repository ${s.repository}`,
    s.commit && `commit ${s.commit}`,
    s.ref && `ref ${s.ref}`,
    ...s.subjects.map((x) => `subject ${x.name ?? ''} sha256:${x.digest.sha256 ?? '?'}`),
    s.builderId && `builder ${s.builderId}`,
    s.tee && `tee ${s.tee}${s.tcbStatus ? ` (TCB ${s.tcbStatus})` : ''}`,
  ].filter(Boolean);
  const verdict = report.verified ? 'VERIFIED' : `VERIFICATION FAILED: ${failed.join(', ')}`;
  return [...about, '', ...lines, '', verdict, ''].join('\n');
}
