/**
 * An endpoint's path prefix put before a backend's path. When the prefix already ends with the
 * path's first segment (`http://host:8000/v1` and `/v1/chat/completions`, as LiteLLM's api_base
 * is written), that segment is not repeated.
 */
export function joinUpstreamPath(prefix: string, path: string): string {
  if (prefix === '') return path;
  const last = prefix.slice(prefix.lastIndexOf('/'));
  return path.startsWith(`${last}/`) ? prefix + path.slice(last.length) : prefix + path;
}
