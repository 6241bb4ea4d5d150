'use strict';
// Shared by the service benches: a lean keep-alive HTTP client, a fixed-concurrency load loop,
// latency summaries, and CPU accounting from /proc (NaN where there is none).
const { readdirSync, readFileSync } = require('node:fs');
const net = require('node:net');

const HEAD_END = Buffer.from('\r\n\r\n');

/**
 * One keep-alive HTTP/1.1 connection carrying one request at a time. Requests go out as a single
 * prepared buffer and responses are framed by Content-Length: node:http's client costs several times
 * more CPU per request, which on a 2-core machine would be taken from the server being measured.
 */
class Connection {
  constructor(port, host, onClose) {
    this.pending = undefined;
    this.buffer = Buffer.alloc(0);
    this.socket = net.connect(port, host);
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk) => this.onData(chunk));
    this.socket.on('error', (error) => this.fail(error));
    this.socket.on('close', () => {
      this.fail(new Error('the server closed the connection'));
      onClose(this);
    });
  }

  send(bytes) {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.socket.write(bytes);
    });
  }

  onData(chunk) {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const headEnd = this.buffer.indexOf(HEAD_END);
    if (headEnd < 0) return;
    const head = this.buffer.toString('latin1', 0, headEnd);
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!length) {
      this.fail(new Error(`response without Content-Length: ${head.split('\r\n')[0]}`));
      this.socket.destroy();
      return;
    }
    const end = headEnd + HEAD_END.length + Number(length[1]);
    if (this.buffer.length < end) return;
    const response = { status: Number(head.slice(9, 12)), text: this.buffer.toString('utf8', headEnd + 4, end) };
    this.buffer = this.buffer.subarray(end);
    const pending = this.pending;
    this.pending = undefined;
    pending?.resolve(response);
  }

  fail(error) {
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(error);
  }
}

/**
 * Up to `connections` keep-alive connections to `base`; `post(path, {body, headers})` resolves
 * {status, text} on whichever connection is free.
 */
function httpClient(base, connections) {
  const url = new URL(base);
  const host = `${url.hostname}:${url.port}`;
  const idle = [];
  const waiting = [];
  const open = new Set();
  const release = (connection) => {
    const next = waiting.shift();
    if (next) next(connection);
    else idle.push(connection);
  };
  const acquire = () => {
    const connection = idle.pop();
    if (connection) return Promise.resolve(connection);
    if (open.size < connections) {
      const created = new Connection(Number(url.port), url.hostname, (closed) => {
        open.delete(closed);
        const at = idle.indexOf(closed);
        if (at >= 0) idle.splice(at, 1);
      });
      open.add(created);
      return Promise.resolve(created);
    }
    return new Promise((resolve) => waiting.push(resolve));
  };
  return {
    async post(path, { body, headers }) {
      let head = `POST ${path} HTTP/1.1\r\nhost: ${host}\r\ncontent-length: ${body.length}\r\n`;
      for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
      const bytes = Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), body]);
      const connection = await acquire();
      try {
        return await connection.send(bytes);
      } finally {
        if (open.has(connection)) release(connection);
      }
    },
    close() {
      for (const connection of open) connection.socket.destroy();
    },
  };
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

module.exports = { cpuSeconds, cpuSecondsOf, httpClient, measure, round, summarize };
