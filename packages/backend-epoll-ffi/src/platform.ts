/**
 * Why this backend cannot run here, or `undefined` when it can: epoll is Linux's, and the layout of
 * `struct epoll_event` is known (and tested) for x86_64 and arm64 only.
 */
export function platformProblem(platform: string = process.platform, arch: string = process.arch): string | undefined {
  if (platform !== 'linux') return `epoll is Linux-only, and this is ${platform}`;
  if (arch !== 'x64' && arch !== 'arm64') return `struct epoll_event's layout is known for x64 and arm64 only, and this is ${arch}`;
  return undefined;
}
