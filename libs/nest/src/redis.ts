import { Redis, RedisOptions } from 'ioredis';

/** ioredis options for BullMQ from a redis:// URL (BullMQ workers need maxRetriesPerRequest null). */
export function redisConnection(url: string): RedisOptions {
  const parsed = new URL(url);
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port ? Number(parsed.port) : 6379,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0,
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: null,
  };
}

/** Fails fast at boot, saying exactly how to get a Redis, when none answers at `url`. */
export async function assertRedisReachable(url: string, timeoutMs = 3000): Promise<void> {
  const client = new Redis({
    ...redisConnection(url),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    const safe = url.replace(/\/\/[^@/]*@/, '//***@');
    throw new Error(
      [
        `Redis is not reachable at ${safe} (${(error as Error).message}).`,
        'Secure Build queues builds in Redis. Start one, then run this again:',
        '  Debian:  apt-get install -y redis-server && redis-server --daemonize yes --bind 127.0.0.1 --port 6379',
        '  or point REDIS_URL at a running Redis (redis://host:port).',
      ].join('\n'),
    );
  } finally {
    client.disconnect();
  }
}
