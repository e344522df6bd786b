// pg-cursor 2.22 ships no declarations; the part these tests use.
declare module 'pg-cursor' {
  import type { Submittable } from 'pg';
  export default class Cursor implements Submittable {
    constructor(text: string, values?: unknown[], config?: { rowMode?: 'array'; types?: unknown });
    submit: Submittable['submit'];
    read(rows: number, callback: (error: Error | undefined, rows: unknown[]) => void): void;
    close(callback?: (error?: Error) => void): void;
  }
}
