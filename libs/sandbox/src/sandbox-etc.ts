import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { SANDBOX_GID, SANDBOX_HOME, SANDBOX_UID } from './bwrap-args';

/** Host files that some tools need and that reveal nothing about the host; bound when present. */
const HOST_ETC_FILES = ['/etc/ld.so.cache'];

/**
 * Writes the sandbox's minimal /etc (passwd, group, nsswitch.conf, hosts) into `dir` and returns
 * the files to bind read-only. The host's /etc is never exposed wholesale.
 */
export async function writeSandboxEtc(dir: string): Promise<{ source: string; dest: string }[]> {
  await mkdir(dir, { mode: 0o755 });
  const files: Record<string, string> = {
    passwd:
      'root:x:0:0:root:/root:/usr/sbin/nologin\n' +
      `build:x:${SANDBOX_UID}:${SANDBOX_GID}:build:${SANDBOX_HOME}:/bin/sh\n` +
      'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n',
    group: `root:x:0:\nbuild:x:${SANDBOX_GID}:\nnogroup:x:65534:\n`,
    'nsswitch.conf': 'passwd: files\ngroup: files\nshadow: files\nhosts: files\nnetworks: files\n',
    hosts: '127.0.0.1 localhost sandbox\n::1 localhost\n',
  };
  const result: { source: string; dest: string }[] = [];
  for (const [name, content] of Object.entries(files)) {
    const source = join(dir, name);
    await writeFile(source, content, { mode: 0o644 });
    result.push({ source, dest: `/etc/${name}` });
  }
  for (const file of HOST_ETC_FILES) {
    if (
      await stat(file).then(
        (s) => s.isFile(),
        () => false,
      )
    )
      result.push({ source: file, dest: file });
  }
  return result;
}
