'use strict';
// Shared by the service benches: keep-alive POSTs, a fixed-concurrency load loop, latency summaries,
// and CPU accounting from /proc (NaN where there is none).
const { readdirSync, readFileSync } = require('node:fs');
const http = require('node:http');

/** POSTs prepared bytes with prepared headers over the keep-alive `agent`; resolves {status, text}. */
function post(agent, base, path, { body, headers }) {
  const url = new URL(path, base);
  return new Promise((done, fail) => {
    const req = http.request(
      {
        agent,
        hostname: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { ...headers, 'content-length': body.length },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => done({ status: res.statusCode, text }));
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}

/** Runs operations `from`..`to`-1 with `concurrency` in flight; returns their latencies and the wall time. */
async function measure(from, to, concurrency, operation) {
  const latencies = [];
  let next = from;
  const started = performance.now();
  const lane = async () => {
    for (;;) {
      const i = next++;
      if (i >= to) return;
      const t0 = performance.now();
      await operation(i);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, to - from) }, lane));
  return { latencies, elapsedMs: performance.now() - started };
}

/** Throughput and latency percentiles over several measured slices. */
function summarize(slices) {
  const sorted = slices.flatMap((s) => s.latencies).sort((a, b) => a - b);
  const elapsedMs = slices.reduce((sum, s) => sum + s.elapsedMs, 0);
  const pct = (p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
  return { rps: (sorted.length * 1000) / elapsedMs, p50Ms: pct(50), p99Ms: pct(99) };
}

const round = (n, digits = 1) => Number(n.toFixed(digits));

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** CPU seconds used so far by every process whose command name is `name` (e.g. postgres). */
function cpuSecondsOf(name) {
  let total = 0;
  try {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) === name) total += cpuSeconds(pid);
      } catch {
        // exited meanwhile
      }
    }
  } catch {
    return NaN;
  }
  return total;
}

module.exports = { cpuSeconds, cpuSecondsOf, measure, post, round, summarize };
