import type { BenchRow, BenchTable } from './harness.js';
// Rendering of benchmark tables, kept apart from the load helpers in harness.ts.

export function formatOps(opsPerSec: number): string {
  if (!Number.isFinite(opsPerSec)) return '-';
  return Math.round(opsPerSec).toLocaleString('en-US');
}

export function formatMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 1) return ms.toFixed(2);
  if (ms === 0) return '0';
  // Two significant digits keep microsecond latencies readable: 0.0012, 0.035, 0.24.
  return ms.toPrecision(2);
}

function formatMetric(value: string | number): string {
  if (typeof value === 'string') return value;
  if (!Number.isFinite(value)) return '-';
  return Number.isInteger(value) ? value.toLocaleString('en-US') : value.toFixed(1);
}

/** Renders a table as padded GitHub markdown: readable in a terminal, pasteable into a README. */
export function formatTable(table: BenchTable): string {
  const rows = table.rows;
  const metricKeys = [...(table.columns ?? [])];
  for (const row of rows) {
    for (const key of Object.keys(row.metrics ?? {})) if (!metricKeys.includes(key)) metricKeys.push(key);
  }
  type Column = { header: string; right: boolean; cell(row: BenchRow): string };
  const columns: Column[] = [];
  if (rows.some((r) => r.group !== undefined)) columns.push({ header: 'case', right: false, cell: (r) => r.group ?? '' });
  columns.push({ header: 'name', right: false, cell: (r) => r.name });
  if (rows.some((r) => Number.isFinite(r.opsPerSec))) columns.push({ header: 'ops/s', right: true, cell: (r) => formatOps(r.opsPerSec) });
  if (rows.some((r) => r.opsPerCpuSec !== undefined)) {
    columns.push({ header: 'ops/cpu-s', right: true, cell: (r) => (r.opsPerCpuSec === undefined ? '' : formatOps(r.opsPerCpuSec)) });
  }
  if (rows.some((r) => r.p50Ms !== undefined)) columns.push({ header: 'p50 ms', right: true, cell: (r) => formatMs(r.p50Ms) });
  if (rows.some((r) => r.p99Ms !== undefined)) columns.push({ header: 'p99 ms', right: true, cell: (r) => formatMs(r.p99Ms) });
  if (rows.some((r) => r.ratio !== undefined)) {
    columns.push({ header: table.ratioLabel ?? 'ratio', right: true, cell: (r) => r.ratio ?? '' });
  }
  for (const key of metricKeys) {
    columns.push({
      header: key,
      right: true,
      cell: (r) => {
        const value = r.metrics?.[key];
        return value === undefined ? '' : formatMetric(value);
      },
    });
  }
  if (rows.some((r) => r.note !== undefined)) columns.push({ header: 'note', right: false, cell: (r) => r.note ?? '' });

  const cells = rows.map((row) => columns.map((column) => escapeCell(column.cell(row))));
  const widths = columns.map((column, i) => Math.max(3, column.header.length, ...cells.map((line) => (line[i] ?? '').length)));
  const pad = (text: string, i: number): string => {
    const width = widths[i] ?? 0;
    return columns[i]?.right === true ? text.padStart(width) : text.padEnd(width);
  };
  const line = (parts: string[]): string => `| ${parts.join(' | ')} |`;
  const out = [
    `### ${table.title}`,
    '',
    line(columns.map((column, i) => pad(column.header, i))),
    line(columns.map((column, i) => (column.right ? `${'-'.repeat((widths[i] ?? 3) - 1)}:` : '-'.repeat(widths[i] ?? 3)))),
    ...cells.map((parts) => line(parts.map((text, i) => pad(text, i)))),
  ];
  if (table.notes !== undefined && table.notes.length > 0) {
    out.push('');
    for (const note of table.notes) out.push(`- ${note}`);
  }
  return out.join('\n');
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
