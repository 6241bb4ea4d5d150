import { describe, expect, it } from 'vitest';

import { bubblewrapArgs, cleanAbsolutePath, isWithin } from './bwrap-args';

const plan = {
  env: { SOURCE_DATE_EPOCH: '1', TZ: 'UTC' },
  toolchainDirs: ['/usr', '/etc/alternatives'],
  rootLinks: [
    { path: '/bin', symlinkTo: 'usr/bin' },
    { path: '/lib', bind: true as const },
  ],
  etcFiles: [{ source: '/w/etc/passwd', dest: '/etc/passwd' }],
  treeDir: '/w/src',
  mountPath: '/src',
  tmpSizeBytes: 1024,
  command: ['/bin/sh', '-c', 'make'],
};

describe('bubblewrapArgs', () => {
  const args = bubblewrapArgs(plan);
  const joined = args.join(' ');

  it('unshares everything, never shares the network, and isolates the session and environment', () => {
    expect(args.slice(0, 5)).toEqual([
      '--unshare-all',
      '--unshare-user',
      '--disable-userns',
      '--die-with-parent',
      '--new-session',
    ]);
    expect(args).toContain('--clearenv');
    expect(args).not.toContain('--share-net');
    expect(joined).toContain('--setenv SOURCE_DATE_EPOCH 1 --setenv TZ UTC');
    expect(joined).toContain('--cap-drop ALL --uid 1000 --gid 1000');
    expect(joined).toContain('--hostname sandbox --chdir /src');
  });

  it('binds the toolchain and /etc files read-only and only the tree read-write', () => {
    expect(joined).toContain('--ro-bind /usr /usr --ro-bind /etc/alternatives /etc/alternatives');
    expect(joined).toContain('--symlink usr/bin /bin --ro-bind /lib /lib');
    expect(joined).toContain('--ro-bind /w/etc/passwd /etc/passwd');
    expect(args.filter((a) => a === '--bind')).toHaveLength(1);
    expect(joined).toContain('--bind /w/src /src');
    expect(joined).toContain('--perms 1777 --size 1024 --tmpfs /tmp');
    expect(joined).toContain('--perms 0700 --size 1024 --tmpfs /home/build');
  });

  it('remounts the root read-only after every mount and ends with the command', () => {
    const remount = args.indexOf('--remount-ro');
    expect(remount).toBeGreaterThan(args.lastIndexOf('--bind'));
    expect(remount).toBeGreaterThan(args.lastIndexOf('--tmpfs'));
    expect(args.slice(-4)).toEqual(['--', '/bin/sh', '-c', 'make']);
  });
});

describe('path helpers', () => {
  it('isWithin', () => {
    expect(isWithin('/usr/lib', '/usr')).toBe(true);
    expect(isWithin('/usr', '/usr')).toBe(true);
    expect(isWithin('/usrx', '/usr')).toBe(false);
  });

  it('cleanAbsolutePath', () => {
    expect(cleanAbsolutePath('/build/a-b_c.1')).toBe('/build/a-b_c.1');
    for (const bad of ['', '/', 'rel', '/a/../b', '/a/./b', '/a//b', '/a b', '/a\nb', '/a/']) {
      expect(cleanAbsolutePath(bad)).toBeUndefined();
    }
  });
});
