/**
 * Replaces every known secret (and any `user:password@` in a URL) by `***`. The pools already
 * keep secrets out of their errors; this is the demo's own second line of defence before text
 * reaches the dashboard, the log or /metrics.
 */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text.replace(/(\/\/[^:/@\s]+:)[^@/\s]+@/g, '$1***@');
  for (const secret of secrets) {
    if (secret.length >= 4 && out.includes(secret)) out = out.split(secret).join('***');
  }
  return out;
}
