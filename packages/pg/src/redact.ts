import type pg from 'pg';

const REDACTED = '<redacted>';

/** The strings that must never appear in an error, event or log: passwords and connection strings. */
export function collectSecrets(config: pg.ClientConfig): string[] {
  const secrets: string[] = [];
  if (typeof config.password === 'string' && config.password.length > 0) secrets.push(config.password);
  const connectionString = config.connectionString;
  if (typeof connectionString === 'string' && connectionString.length > 0) {
    secrets.push(connectionString);
    try {
      const url = new URL(connectionString);
      if (url.password) secrets.push(url.password, decodeURIComponent(url.password));
      const queryPassword = url.searchParams.get('password');
      if (queryPassword) secrets.push(queryPassword);
    } catch {
      // Not a URL (a socket path form): the whole string is already listed.
    }
  }
  // Longest first, so a connection string is replaced whole before the password inside it.
  return [...new Set(secrets)].sort((a, b) => b.length - a.length);
}

export function redactText(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) {
    if (result.includes(secret)) result = result.split(secret).join(REDACTED);
  }
  return result;
}

/**
 * Scrubs secrets from an error in place (message, stack, and the `input` field Node's URL parser
 * adds) and returns it, so pg's own error classes and SQLSTATE codes survive.
 */
export function redactError<E>(error: E, secrets: readonly string[]): E {
  if (secrets.length === 0 || error === null || typeof error !== 'object') return error;
  const record = error as Record<string, unknown>;
  for (const key of ['message', 'stack', 'input', 'detail', 'hint', 'where', 'internalQuery'] as const) {
    const value = record[key];
    if (typeof value === 'string') {
      const clean = redactText(value, secrets);
      if (clean !== value) {
        try {
          record[key] = clean;
        } catch {
          // A frozen field: nothing more we can do without losing the error's identity.
        }
      }
    }
  }
  if ('cause' in record && record['cause'] !== error) redactError(record['cause'], secrets);
  return error;
}
