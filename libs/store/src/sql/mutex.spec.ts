import { describe, expect, it } from 'vitest';

import { Mutex } from './mutex';

describe(Mutex.name, () => {
  it('runs callers one at a time in arrival order and survives rejections', async () => {
    const mutex = new Mutex();
    const log: string[] = [];
    const task = (name: string, fail = false) =>
      mutex.run(async () => {
        log.push(`${name}:in`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        log.push(`${name}:out`);
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([task('a'), task('b', true), task('c')]);
    expect(log).toEqual(['a:in', 'a:out', 'b:in', 'b:out', 'c:in', 'c:out']);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });
});
