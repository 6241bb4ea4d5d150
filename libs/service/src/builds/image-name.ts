import { parseImageReference } from '@secure-build/registry';

/** What an `imageName` must look like: it is where the worker pushes the image. */
export const IMAGE_NAME_RULE = 'must be an image reference like registry.example.com/org/app[:tag]';

/** True when `name` is `host[:port]/repo[:tag]` with an explicit registry host and no digest. */
export function isPushableImageName(name: string): boolean {
  try {
    return parseImageReference(name).digest === undefined;
  } catch {
    return false;
  }
}
